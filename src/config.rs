//! Task file + flags -> validated configuration. (Being built.)
