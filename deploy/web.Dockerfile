# The web app: built once into static files (apps/web-demo/dist), served by nginx. The API's address is
# not baked into the bundle: nginx answers /config.json from API_URL at container start.
FROM oven/bun:1.4.4-slim AS build
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
RUN cd apps/web-demo && bun run build

FROM nginx:1.27-alpine
# The official image runs envsubst on /etc/nginx/templates/*.template at start (only on variables that are set).
COPY deploy/web.nginx.conf.template /etc/nginx/templates/default.conf.template
COPY --from=build /app/apps/web-demo/dist /usr/share/nginx/html
ENV API_URL=http://localhost:3000
EXPOSE 8080
