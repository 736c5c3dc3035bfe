//! `hello_rust`: a Python module written in Rust.

use pyo3::prelude::*;

/// The sum of two integers, computed in Rust.
#[pyfunction]
fn add(a: i64, b: i64) -> i64 {
    a + b
}

/// A greeting for `name`.
#[pyfunction]
fn greet(name: &str) -> String {
    format!("Hello, {name}, from Rust!")
}

/// The console script `hello-rust`.
#[pyfunction]
fn main() {
    println!("{} 2 + 3 = {}", greet("pyslim"), add(2, 3));
}

#[pymodule]
fn hello_rust(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(add, m)?)?;
    m.add_function(wrap_pyfunction!(greet, m)?)?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    Ok(())
}
