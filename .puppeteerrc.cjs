/** Never download a browser at install time: Debian's chromium is used. */
module.exports = { skipDownload: true };
