// Intensity sliders: the chosen value ("3 / 5") beside each slider follows it as it moves.
// The page prints the value server-side; this only keeps it current.
export function intensityOutputs(root = document) {
  for (const output of root.querySelectorAll("output.range-value")) {
    const input = document.getElementById(output.htmlFor.value || output.getAttribute("for"));
    if (!input) continue;
    const show = () => { output.textContent = `${input.value} / ${input.max || 5}`; };
    input.addEventListener("input", show);
    input.addEventListener("change", show);
    show();
  }
}

intensityOutputs();
