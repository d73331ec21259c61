/**
 * Threat Bus 2020.12's `IntelType` enum (PROTOCOL.md section 8), numbered
 * from 1: IPSRC 1 up to FILENAME_TLSH 47. The table is a fact of that
 * broker's wire format, kept once, in `src/core/legacy_intel_type.ts`; the
 * emulator judges intel by the same numbers under its own names.
 */

export {
  INTEL_TYPE_NAMES as LEGACY_INTEL_TYPES,
  intelTypeName as legacyIntelTypeName,
  intelTypeValue as legacyIntelType,
} from "../../../src/core/legacy_intel_type.ts";
