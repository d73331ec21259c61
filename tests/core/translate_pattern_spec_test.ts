/** Every example of the STIX 2.1 patterning section, translated or refused. */
import { testRows } from "./pattern_expectation.ts";
import { SPEC_EXAMPLES } from "./stix_spec_examples.ts";

testRows(SPEC_EXAMPLES);
