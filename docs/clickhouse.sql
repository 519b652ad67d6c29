-- mta550's flat NDJSON (`--output ndjson --ecs=false`) in ClickHouse: one table for every record
-- kind, a view of delivery units, and the queries docs/clickhouse.md explains. Written for and
-- tested with ClickHouse 18.16 (Debian bookworm's), which newer versions also run.
-- test/e2e/clickhouse.e2e.ts runs this file as it stands: every statement below, each after its
-- `-- name:` line, against a real server fed with mta550's output, and compares the answers with
-- mta550's own report.
--
-- Ingest (the setting skips the keys the table leaves out, see below):
--   mta550 analyze /var/log/mail.log --output ndjson --ecs=false --codes 5xx --records events,onsets,groups,attempts \
--     | clickhouse-client --input_format_skip_unknown_fields=1 --query 'INSERT INTO mta550_events FORMAT JSONEachRow'

-- name: table
CREATE TABLE IF NOT EXISTS mta550_events
(
    -- When. `@timestamp` is kept as written (ISO 8601 UTC with milliseconds and Z, so text order is
    -- time order and min/max are exact to the millisecond); 18.16 has no DateTime64, so `time` is
    -- the second, for sorting, partitions and buckets. A line without a time of its own gets the
    -- time it was read, with `mta550.time_missing` = 1: leave those rows out of time questions.
    `@timestamp` String,
    time DateTime MATERIALIZED parseDateTimeBestEffort(`@timestamp`),
    `mta550.time_missing` UInt8,

    -- Which record: event.dataset is mta550.rejection, mta550.delivery (--records attempts),
    -- mta550.onset, mta550.group (--records groups) or mta550.summary (tail --summary-every).
    `event.dataset` String,
    `event.kind` String,
    `event.module` String,
    `mta550.record` String,
    `mta550.schema` UInt8,
    `ecs.version` String,
    `data_stream.type` String,
    `data_stream.dataset` String,
    `data_stream.namespace` String,

    -- What happened. Array columns named `prefix.name` (one dot) that share the prefix are one
    -- Nested structure for 18.16, whose arrays must have equal lengths in every row (a missing key
    -- counts as []): event.category and event.type are the only ones of prefix `event`, and mta550
    -- writes them with equal lengths in every record (2 and 2 for rejections, 1 and 1 otherwise).
    `event.id` Nullable(String),
    `event.category` Array(String),
    `event.type` Array(String),
    `event.action` String,
    `event.outcome` Nullable(String),
    `event.code` Nullable(String),
    `event.reason` Nullable(String),
    `event.provider` Nullable(String),
    `event.original` Nullable(String),
    `event.start` Nullable(String),
    `event.end` Nullable(String),
    message Nullable(String),

    -- The message and recipient. The addresses are arrays of one (none when unknown; the null
    -- sender is ['']). Names with two dots are no Nested structure, so their lengths may differ.
    `email.direction` Nullable(String),
    `email.local_id` Nullable(String),
    `email.message_id` Nullable(String),
    `email.from.address` Array(String),
    `email.to.address` Array(String),
    `destination.domain` Nullable(String),
    `error.code` Nullable(String),
    `error.message` Nullable(String),

    -- The hosts. related.hosts and related.ip are left out: as arrays they would be one Nested
    -- `related`, and their lengths differ in most rows; they repeat server.*, client.* and host.name.
    `server.domain` Nullable(String),
    `server.address` Nullable(String),
    `server.ip` Nullable(String),
    `server.port` Nullable(UInt16),
    `client.domain` Nullable(String),
    `client.address` Nullable(String),
    `client.ip` Nullable(String),
    `client.port` Nullable(UInt16),
    `source.domain` Nullable(String),
    `source.address` Nullable(String),
    `source.ip` Nullable(String),
    `source.port` Nullable(UInt16),
    `host.name` Nullable(String),
    `observer.hostname` Nullable(String),
    `observer.product` Nullable(String),
    `observer.type` Nullable(String),
    `log.file.path` Nullable(String),

    -- mta550's own fields.
    `mta550.subtype` Nullable(String),
    `mta550.side` Nullable(String),
    `mta550.provider` Nullable(String),
    `mta550.confidence` Nullable(String),
    `mta550.next_move` Nullable(String),
    `mta550.stage` Nullable(String),
    `mta550.code` Nullable(UInt16),
    `mta550.code_inferred` Nullable(UInt8),
    `mta550.enhanced_status_source` Nullable(String),
    `mta550.action` Nullable(String),
    `mta550.relay` Nullable(String),
    `mta550.original_recipient` Nullable(String),
    `mta550.client_helo` Nullable(String),
    `mta550.client_present` Nullable(UInt8),
    `mta550.sender_present` Nullable(UInt8),
    `mta550.year_source` Nullable(String),
    `mta550.time_ms` Nullable(UInt64),
    `mta550.mta.program` Nullable(String),
    `mta550.mta.daemon` Nullable(String),
    `mta550.source.format` Nullable(String),
    `mta550.source.line` Nullable(UInt64),
    `mta550.source.offset` Nullable(UInt64),
    `mta550.source.identity` Nullable(String),

    -- Embedded records, whole, as JSON text (18.16: visitParamExtract*, which takes the first key
    -- of that name at any depth; JSONExtract* from 19.x on).
    `mta550.classification` Nullable(String),
    `mta550.message` Nullable(String),
    `mta550.onset` Nullable(String),
    `mta550.group` Nullable(String),
    `mta550.summary` Nullable(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(time)
ORDER BY time;

-- name: units_view
-- One row per delivery unit (a message to one recipient domain), from the delivery rows
-- (--records attempts), counted as mta550 counts the denominators of its rates: the attempts of one
-- message (host, queue id) to one domain are one unit, placed at its first attempt; it failed when
-- an attempt within 60 s of the first got a 5xx and was not delivered. Attempts without a time or
-- a domain are not units.
CREATE VIEW IF NOT EXISTS mta550_units AS
SELECT
    ifNull(`host.name`, '') AS host,
    ifNull(`email.local_id`, '') AS local_id,
    assumeNotNull(`destination.domain`) AS domain,
    min(assumeNotNull(`mta550.time_ms`)) AS first_ms,
    toDateTime(intDiv(first_ms, 1000)) AS first_time,
    countIf(ifNull(`mta550.code`, 0) BETWEEN 500 AND 599 AND `event.action` != 'sent') AS failures,
    minIf(assumeNotNull(`mta550.time_ms`), ifNull(`mta550.code`, 0) BETWEEN 500 AND 599 AND `event.action` != 'sent') AS first_failure_ms,
    failures > 0 AND first_failure_ms - first_ms <= 60000 AS failed
FROM mta550_events
WHERE `event.dataset` = 'mta550.delivery' AND `mta550.time_missing` = 0 AND `destination.domain` IS NOT NULL
GROUP BY host, local_id, domain;

-- name: groups
-- Rejections by recipient domain x direction x subtype (the report's groups): how many, how many
-- distinct recipients and senders (the null sender counts as one), first and last seen (NULL when
-- no rejection of the group had a time).
SELECT
    `destination.domain` AS recipient_domain,
    `email.direction` AS direction,
    ifNull(`mta550.subtype`, 'other_or_unclassified') AS subtype,
    count() AS rejections,
    uniqExactArray(`email.to.address`) AS recipients,
    uniqExactArray(`email.from.address`) AS senders,
    min(if(`mta550.time_missing` = 1, NULL, `@timestamp`)) AS first_seen,
    max(if(`mta550.time_missing` = 1, NULL, `@timestamp`)) AS last_seen
FROM mta550_events
WHERE `event.dataset` = 'mta550.rejection'
GROUP BY recipient_domain, direction, subtype
ORDER BY rejections DESC, recipient_domain, subtype, direction;

-- name: totals
-- All rejections, by direction, and the time they span.
SELECT
    count() AS rejections,
    countIf(`email.direction` = 'outbound') AS outbound,
    countIf(`email.direction` = 'inbound') AS inbound,
    countIf(`mta550.time_missing` = 1) AS without_time,
    min(if(`mta550.time_missing` = 1, NULL, `@timestamp`)) AS first_seen,
    max(if(`mta550.time_missing` = 1, NULL, `@timestamp`)) AS last_seen
FROM mta550_events
WHERE `event.dataset` = 'mta550.rejection';

-- name: rejections_per_minute
-- Rejections per minute and subtype; minute is NULL for the lines that had no time.
SELECT
    if(`mta550.time_missing` = 1, NULL, toStartOfMinute(time)) AS minute,
    ifNull(`mta550.subtype`, 'other_or_unclassified') AS subtype,
    count() AS rejections
FROM mta550_events
WHERE `event.dataset` = 'mta550.rejection'
GROUP BY minute, subtype
ORDER BY minute, subtype;

-- name: unit_failure_rate_per_minute
-- Delivery units per minute (by their first attempt), those that failed with a 5xx, and the share
-- that failed (needs --records attempts).
SELECT
    toStartOfMinute(first_time) AS minute,
    count() AS units,
    countIf(failed) AS failed_units,
    failed_units / units AS failure_rate
FROM mta550_units
GROUP BY minute
ORDER BY minute;

-- name: units_by_domain
-- The same per recipient domain: `units` is the denominator of the rates of the report's outbound
-- groups of that domain.
SELECT
    domain AS recipient_domain,
    count() AS units,
    countIf(failed) AS failed_units,
    failed_units / units AS failure_rate
FROM mta550_units
GROUP BY recipient_domain
ORDER BY units DESC, recipient_domain;

-- name: onsets
-- Onset, recovery and other alert records, in the order they were detected.
SELECT
    `@timestamp` AS detected_at,
    `event.action` AS type,
    `event.id` AS id,
    `destination.domain` AS recipient_domain,
    `mta550.subtype` AS subtype,
    `mta550.provider` AS provider,
    `event.start` AS onset_at,
    `event.end` AS recovered_at,
    visitParamExtractString(ifNull(`mta550.onset`, ''), 'confidence') AS confidence,
    message AS summary,
    `mta550.next_move` AS next_move
FROM mta550_events
WHERE `event.dataset` = 'mta550.onset'
ORDER BY detected_at, id;
