//! One set of facts, read alike by the verdict, the summary and the energy.
