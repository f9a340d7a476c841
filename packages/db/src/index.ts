export * from './schema'
export * from './client'
export { runMigrations, MIGRATIONS_FOLDER } from './migrate'
