/** The kinds of indicator value the bridge can match, named as the original named them. */
export const IOC_TYPES = ["ip", "ipv6", "domain", "url"] as const;
export type IocType = typeof IOC_TYPES[number];

/** A single matchable value taken from a point-equality STIX pattern. */
export interface PointIoc {
  readonly type: IocType;
  readonly value: string;
}
