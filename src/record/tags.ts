/**
 * The tags of the typed values inside a record. Shared by the encoder (hot
 * path) and the decoder; docs/FORMAT.md describes them.
 *
 * @module
 */

/** `undefined`. */
export const T_UNDEFINED = 0x01;
/** `null`. */
export const T_NULL = 0x02;
/** `false`. */
export const T_FALSE = 0x03;
/** `true`. */
export const T_TRUE = 0x04;
/** An int32 as a zigzag varint. */
export const T_INT = 0x05;
/** A float64, little-endian (NaN, -0 and the infinities included). */
export const T_F64 = 0x06;
/** A string: varint byte length, then UTF-8. */
export const T_STR = 0x07;
/** A string holding lone surrogates: varint byte length, then WTF-8. */
export const T_STR_WTF8 = 0x08;
/** A truncated string: varint original length in UTF-16 units, then a string item. */
export const T_STR_TRUNC = 0x09;
/** A bigint: a string item of its decimal digits. */
export const T_BIGINT = 0x0a;
/** A Date: a float64 of its time value (NaN when invalid). */
export const T_DATE = 0x0b;
/** An Error: name, message, stack (string or undefined), cause, then an object body. */
export const T_ERROR = 0x0c;
/** An array: items, then T_END (or T_MORE). */
export const T_ARRAY = 0x0d;
/** A plain object: an object body (keys and values, then key 0). */
export const T_OBJECT = 0x0e;
/** A Map: key and value items alternating, then T_END (or T_MORE). */
export const T_MAP = 0x0f;
/** A Set: items, then T_END (or T_MORE). */
export const T_SET = 0x10;
/** Ends an array, a Map or a Set. */
export const T_END = 0x11;
/** Ends an array, a Map or a Set that was cut: varint count of items left out. */
export const T_MORE = 0x12;
/** A marker: one byte of kind (see MARKER_KINDS), then a string item. */
export const T_MARKER = 0x13;

/** Object body key: the end of the object. */
export const K_END = 0;
/** Object body key: the object was cut here; a varint count of keys left out follows. */
export const K_MORE = 1;
/** Object body key: an inline key string item follows. */
export const K_INLINE = 2;
/** Object body key: dictionary ids are stored as `id + K_ID_BASE`. */
export const K_ID_BASE = 2;

/** Marker kinds, by their code in a T_MARKER item. */
export const MARKER_KINDS = [
  "circular",
  "depth",
  "truncated",
  "redacted",
  "function",
  "symbol",
  "opaque",
  "thrown",
] as const;

/** Marker code: a circular reference. */
export const M_CIRCULAR = 0;
/** Marker code: a value past the depth limit. */
export const M_DEPTH = 1;
/** Marker code: a value cut at a size limit. */
export const M_TRUNCATED = 2;
/** Marker code: a redacted value. */
export const M_REDACTED = 3;
/** Marker code: a function. */
export const M_FUNCTION = 4;
/** Marker code: a symbol. */
export const M_SYMBOL = 5;
/** Marker code: a value ttlog does not look into (a typed array, a Promise...). */
export const M_OPAQUE = 6;
/** Marker code: reading the value threw. */
export const M_THROWN = 7;
