// The demo shop's one bit of behaviour: the heading names the page (?page=boots). A served file,
// not an inline script: our pages' Content-Security-Policy allows no inline script.
const page = new URLSearchParams(location.search).get("page");
if (page) document.getElementById("heading").textContent = page[0].toUpperCase() + page.slice(1);
