export * from './schedules/index.js';
export * from './refine/index.js';
