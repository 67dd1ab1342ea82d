// Progressive enhancement: drop a file on the box to pick it (the file picker works without this).
(function () {
  var drop = document.getElementById("drop"), input = document.getElementById("file");
  if (!drop || !input || !window.DataTransfer) { return; }
  ["dragenter", "dragover"].forEach(function (e) {
    drop.addEventListener(e, function (ev) { ev.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (e) {
    drop.addEventListener(e, function (ev) { ev.preventDefault(); drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (ev) {
    if (ev.dataTransfer && ev.dataTransfer.files.length) {
      input.files = ev.dataTransfer.files;
      drop.querySelector("p").textContent = "Ready to upload: " + input.files[0].name;
    }
  });
})();
