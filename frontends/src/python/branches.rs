//! Branch points of a Python module, for coverage (in progress).
