//! ziffer's integration tests, one test binary with a module per theme: linking one binary
//! instead of ten is most of what building the tests costs.
//!
//! | module | what it checks |
//! | --- | --- |
//! | [`architecture`] | no import circles, the maths knows no engine, no file past 900 lines |
//! | [`averaging`] | stochastic weight averaging: the mean of the epochs' weights, saved and resumed to the same bits |
//! | [`cli`] | the `ziffer` command end to end, and a clear error for every bad input |
//! | `cuda` | the CUDA engine against the CPU, kernel by kernel and over an epoch (skipped without a GPU) |
//! | [`data`] | IDX and CSV readers, MNIST folders and checksums, the bundled MNIST |
//! | [`docs`] | the documentation's links land on the code they name |
//! | [`engine`] | the CPU engine gives the plain recipes' bits, whatever the thread count |
//! | [`experiments`] | every kind of network through train, info, eval, predict and sweep |
//! | [`gradients`] | backprop against finite differences; every optimizer lowers the loss |
//! | [`live`] | `ziffer train --serve`: the run's events watched live, the trained model served, "learn this" |
//! | [`model_file`] | model files: round trips, damaged files, interrupted saves |
//! | [`onnx`] | ONNX export: the file decoded back, its graph run against ziffer, `ziffer export` |
//! | [`plots`] | every picture ziffer draws |
//! | [`predict`] | people's own images: preprocessing and accuracy |
//! | [`resume`] | runs killed (SIGKILL) or stopped (Ctrl-C), resumed to the same bits; changed data refused |
//! | [`serve`] | the web page's server and its JSON API |
//! | [`serve_abuse`] | the server under abuse: slow connections, a soak, header limits, clean errors |
//! | [`training`] | training on real MNIST: accuracy, reproducibility, resuming |

mod support;

mod architecture;
mod averaging;
mod cli;
mod committee;
#[cfg(feature = "cuda")]
mod cuda;
mod data;
mod docs;
mod engine;
mod experiments;
mod gradients;
mod live;
mod model_file;
mod onnx;
mod plots;
mod predict;
mod resume;
mod serve;
mod serve_abuse;
mod training;
