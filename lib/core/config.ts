/**
 * Config schema, defaults and merge (issue "Sessions" owns this file). Pure.
 * Placeholder type until the real schema lands.
 * @module
 */

/** Merged, validated configuration. */
export type Config = Record<string, unknown>;
