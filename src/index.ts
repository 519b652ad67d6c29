/** mta550 as a library: the pure parsers, the correlator, the pipeline and the report. */
export { parsers } from '../parsers/index.js';
export { decodePostfixLine, postfixParser } from '../parsers/postfix/index.js';
export { parseEnvelope } from '../parsers/syslog/envelope.js';
export { PostfixCorrelator } from './correlate/postfix.js';
export type { CorrelatorOptions, CorrelatorStats, Observation } from './correlate/postfix.js';
export { parseCodes } from './aggregate/codes.js';
export { ReportBuilder } from './aggregate/report.js';
export type { Report, ReportGroup } from './aggregate/report.js';
export { runPipeline } from './pipeline.js';
export type { InputSummary, PipelineOptions, PipelineResult } from './pipeline.js';
export { resolveInputs } from './input/resolve.js';
export { Mta550Error } from './errors.js';
export type * from './model/event.js';
export type * from './model/records.js';
export type * from './model/parser.js';
