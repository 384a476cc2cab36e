// Catches whatever stops the inner loop and starts again: only the host can end this.
exports.handler = async (event) => {
  for (;;) {
    try {
      while (true) {}
    } catch (e) {}
  }
};
