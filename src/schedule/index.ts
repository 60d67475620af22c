/** The pipeline's Temporal Schedule: its definition and its life cycle. */
export * from './cron';
export * from './definition';
export * from './errors';
export * from './operations';
export * from './search-attributes';
export * from './time-zone';
