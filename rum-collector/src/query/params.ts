/** The query API's parameter parsers and specs live in common/ (one home for both sides). */

export type { CoverageSpec, ImageQuerySpec, Parsed, QuerySpec } from "../../../common/src/query-contract.ts";
export * from "../../../common/src/query-params-contract.ts";
