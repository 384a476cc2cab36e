exports.handler = async (event) => {
  const kept = [];
  for (let i = 0; ; i++) {
    kept.push('x'.repeat(1024 * 1024) + i);
  }
};
