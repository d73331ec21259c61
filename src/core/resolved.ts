/**
 * An options type with every default filled in: each field present and
 * defined. Options interfaces declare tuning fields as `x?: T | undefined`,
 * so callers pass a setting through as it is and one resolver per options
 * type states the defaults.
 */
export type Resolved<T> = { readonly [K in keyof T]-?: Exclude<T[K], undefined> };
