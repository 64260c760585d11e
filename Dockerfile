# ziffer in a container: build the binary, then run `ziffer train` on the bundled MNIST.
#   docker build -t ziffer .
#   docker run --rm -v "$PWD/models:/ziffer/models" ziffer            # trains, saves models/ziffer.safetensors
#   docker run --rm -v "$PWD/models:/ziffer/models" ziffer eval        # any other subcommand
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY examples examples
COPY assets assets
RUN cargo build --release --locked --bin ziffer

FROM debian:bookworm-slim
WORKDIR /ziffer
COPY --from=build /src/target/release/ziffer /usr/local/bin/ziffer
COPY data/mnist data/mnist
ENTRYPOINT ["ziffer"]
CMD ["train"]
