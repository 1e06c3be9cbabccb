# The rehearse binary image: `rehearse` as the entrypoint, run from /work (mount or copy
# your scenarios/, environments/ and fixtures/ there). Used by ci/kubernetes/cronjob.yaml
# and ci/gitlab/rehearse.gitlab-ci.yml.
#
#   docker build -t rehearse .
#   docker run --rm -v "$PWD:/work" -e BANK_API_KEY rehearse run --env staging

FROM rust:slim AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p rehearse \
    && install -m 0755 target/release/rehearse /usr/local/bin/rehearse

FROM debian:stable-slim
# CA certificates: reqwest's rustls verifies servers against the system's trust store
# (rustls-platform-verifier), so the image needs one.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin rehearse \
    && mkdir -p /work /reports \
    && chown rehearse:rehearse /work /reports
COPY --from=build /usr/local/bin/rehearse /usr/local/bin/rehearse
USER 10001
WORKDIR /work
ENTRYPOINT ["rehearse"]
CMD ["--help"]
