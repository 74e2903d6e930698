/**
 * The tamper-evident audit log: hash-chained entries (HMAC-SHA256 under the `audit-chain` subkey),
 * SQL (PostgreSQL, PGlite) and memory sinks, verification, queries. See docs/audit.md.
 */
export type { AuditEntry, AuditEntryInput, AuditOutcome, AuditRow } from './audit-entry.js';
export { AUDIT_GENESIS_HASH } from './audit-entry.js';
export type { AuditLog, SqlAuditLog, AuditLogOptions, AuditQuery, AuditPage, AuditVerifyResult, AuditHead, AuditKeySource } from './audit-log.js';
export { auditChainKeys } from './audit-log.js';
export { createSqlAuditLog } from './audit-sql.js';
export type { SqlAuditLogOptions } from './audit-sql.js';
export { createMemoryAuditLog, createMemoryAuditStorage } from './audit-memory.js';
export type { MemoryAuditLogOptions, MemoryAuditStorage } from './audit-memory.js';
export { canonicalJson } from './canonical-json.js';
