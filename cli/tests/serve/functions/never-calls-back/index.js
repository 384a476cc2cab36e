exports.handler = (event, context, callback) => {
  // Neither returns a promise nor calls callback.
};
