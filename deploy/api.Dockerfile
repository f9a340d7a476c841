# The Main App: Bun runs the TypeScript sources directly (the web app has its own image, deploy/web.Dockerfile).
FROM oven/bun:1.4.4-slim
# ffmpeg checks uploaded recordings (decodable, duration, silence) before they are stored.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data/audio && chown bun /data/audio
WORKDIR /app
COPY package.json bun.lock ./
COPY apps/api/package.json apps/api/
COPY apps/web-demo/package.json apps/web-demo/
COPY packages/contracts/package.json packages/contracts/
COPY packages/db/package.json packages/db/
COPY bench/package.json bench/
RUN bun install --frozen-lockfile
COPY tsconfig.base.json ./
COPY packages packages
COPY apps apps
ENV NODE_ENV=production
EXPOSE 3000
USER bun
CMD ["bun", "apps/api/src/index.ts"]
