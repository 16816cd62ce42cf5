/*
 * Tables that still read on a phone.
 *
 * Below the stylesheet's narrow breakpoint each row of a table of more than two columns
 * is shown as a stack of its cells (this marks those tables "stacks"); each cell is then named by its column's header, which the stylesheet prints
 * from the cell's data-label. This copies the header text into data-label (a cell that
 * already has one keeps it) and gives every part of the table its ARIA role, so a screen
 * reader still reads a table once the stylesheet stops displaying it as one.
 */
(function () {
  "use strict";

  /** The text of each column's header, by column position (colspan counted). */
  function headerTexts(table) {
    var head = table.tHead;
    if (!head || !head.rows.length) return [];
    var row = head.rows[head.rows.length - 1];
    var texts = [];
    for (var i = 0; i < row.cells.length; i++) {
      var cell = row.cells[i];
      var text = (cell.textContent || "").replace(/\s+/g, " ").trim();
      for (var span = 0; span < (cell.colSpan || 1); span++) texts.push(text);
    }
    return texts;
  }

  function setRole(element, role) {
    if (element && !element.hasAttribute("role")) element.setAttribute("role", role);
  }

  function label(table) {
    var texts = headerTexts(table);
    // Two columns fit a phone as they are: only wider tables are stacked.
    if (texts.length > 2) table.classList.add("stacks");
    setRole(table, "table");
    var groups = table.querySelectorAll(":scope > thead, :scope > tbody, :scope > tfoot");
    for (var g = 0; g < groups.length; g++) setRole(groups[g], "rowgroup");
    for (var r = 0; r < table.rows.length; r++) {
      var row = table.rows[r];
      var inHead = row.parentElement && row.parentElement.tagName === "THEAD";
      setRole(row, "row");
      var column = 0;
      for (var c = 0; c < row.cells.length; c++) {
        var cell = row.cells[c];
        if (cell.tagName === "TH") {
          setRole(cell, inHead || cell.scope === "col" ? "columnheader" : "rowheader");
        } else {
          setRole(cell, "cell");
        }
        if (!inHead && !cell.hasAttribute("data-label") && texts[column]) {
          cell.setAttribute("data-label", texts[column]);
        }
        column += cell.colSpan || 1;
      }
    }
  }

  function labelAll() {
    var tables = document.querySelectorAll("table");
    for (var t = 0; t < tables.length; t++) label(tables[t]);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", labelAll);
  } else {
    labelAll();
  }
})();
