exports.handler = async (event) => {
  while (true) {}
};
