//! Black-box tests of the response side (written below).
