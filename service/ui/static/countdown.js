// Turns every <time class="countdown"> into "due in 3h 12m" / "overdue by 5m", kept current.
(function () {
  function span(ms) {
    const minutes = Math.floor(Math.abs(ms) / 60000);
    const days = Math.floor(minutes / 1440), hours = Math.floor((minutes % 1440) / 60);
    if (days) return days + "d " + hours + "h";
    if (hours) return hours + "h " + (minutes % 60) + "m";
    if (minutes) return minutes + "m";
    return Math.floor(Math.abs(ms) / 1000) + "s";
  }
  function tick() {
    document.querySelectorAll("time.countdown").forEach(function (el) {
      const left = Date.parse(el.getAttribute("datetime")) - Date.now();
      el.textContent = left >= 0 ? "due in " + span(left) : "overdue by " + span(left);
      el.classList.toggle("late", left < 0);
      el.title = el.getAttribute("datetime");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
