import { createDatabase } from './client'
import { runMigrations } from './migrate'
import { seedTasks } from './seed'

const url = process.env.DATABASE_URL
if (!url) {
  console.error('DATABASE_URL is required (e.g. postgres://postgres@127.0.0.1:5432/vstep)')
  process.exit(2)
}
const command = process.argv[2]
if (command === 'migrate') {
  await runMigrations(url)
  console.log('migrations applied')
} else if (command === 'seed') {
  await runMigrations(url)
  const { db, close } = createDatabase(url, { max: 1 })
  const count = await seedTasks(db)
  await close()
  console.log(`seeded ${count} tasks`)
} else {
  console.error('usage: bun src/cli.ts migrate|seed')
  process.exit(2)
}
