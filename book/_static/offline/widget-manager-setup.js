/* Prepares the page for the offline widget manager (html-manager/embed-amd.js).
 * _config.yml (sphinx.config.nb_ipywidgets_js) loads it after require.js and before
 * embed-amd.js, on the pages that saved widget state. Nothing here reaches outside the site.
 *
 * 1. Fonts. embed-amd.js is webpack output: each bundle sets its public path
 *    (__webpack_require__.p) to the folder of the URL RequireJS gives its AMD module id,
 *    and asks for its Font Awesome fonts there. With no RequireJS paths the ids
 *    "@jupyter-widgets/html-manager[/dist/libembed-amd]" resolve against the page, so the
 *    fonts were requested from <page folder>/@jupyter-widgets/html-manager/dist/ (404).
 *    Mapping both ids into the folder embed-amd.js is served from makes the public path
 *    _static/offline/html-manager/, where fetch_assets.sh put the fonts. The modules are
 *    defined inside embed-amd.js, so RequireJS never fetches these URLs; only the fonts
 *    are loaded from there.
 *
 * 2. MathJax. The manager typesets widget labels with MathJax 2's
 *    MathJax.Hub.Queue(["Typeset", MathJax.Hub, element]); the book loads MathJax 3,
 *    which has no Hub ("Cannot read properties of undefined (reading 'Queue')").
 *    Once window.MathJax is MathJax 3 itself (not the configuration object MathJax 3
 *    reads before it loads, which is left alone), a Hub.Queue is added to it that
 *    typesets the given elements with MathJax 3's typesetPromise, after MathJax's
 *    startup and any typesetting already queued.
 *
 * 3. Alt text. The manager's PNG renderer writes <img> with no alt. coursekit's explorers
 *    draw their frames with alt text (coursekit.book.widgets.figure_frame); a frame drawn
 *    another way (plt.show() in a notebook's own explorer) is given alt text here, when
 *    the view renders, from the explorer's controls: "Figure drawn by the interactive
 *    explorer for gate = f, sequence = 0, Δ b_f = 0.00".
 */
(function () {
  "use strict";
  var here = document.currentScript && document.currentScript.src;
  if (!here) {
    return;
  }
  var manager = new URL("html-manager/", here).href;  // .../_static/offline/html-manager/

  if (window.require && typeof window.require.config === "function") {
    window.require.config({
      paths: {
        "@jupyter-widgets/html-manager": manager + "index",
        "@jupyter-widgets/html-manager/dist": manager.replace(/\/$/, "")
      }
    });
  }

  function addHub() {
    var mj = window.MathJax;
    if (!mj || mj.Hub || typeof mj.version !== "string" || !mj.startup) {
      return;  // no MathJax, still its configuration object, or already done
    }
    mj.Hub = {
      Queue: function () {
        var elements = [];
        for (var i = 0; i < arguments.length; i++) {
          var job = arguments[i];
          if (Array.isArray(job) && job[0] === "Typeset" && job[2]) {
            elements.push(job[2]);
          }
        }
        if (!elements.length) {
          return Promise.resolve();
        }
        var ready = mj.startup.promise || Promise.resolve();
        mj.startup.promise = ready.then(function () {
          return mj.typesetPromise(elements);
        }).catch(function (err) {
          console.warn("MathJax could not typeset a widget:", err);
        });
        return mj.startup.promise;
      }
    };
  }

  function controlsOf(root) {
    var settings = [];
    root.querySelectorAll(".widget-inline-hbox, .widget-toggle-buttons").forEach(function (c) {
      var label = c.querySelector(".widget-label");
      var name = label && label.textContent.trim();
      var field = c.querySelector(".widget-readout, select, input, textarea");
      var pressed = c.querySelector("button.mod-active");
      var value = pressed ? pressed.textContent
          : field ? (field.value !== undefined && field.tagName !== "DIV" ? field.value
                                                                          : field.textContent)
          : "";
      value = String(value).trim();
      if (name && value) {
        settings.push(name + " = " + (value.length > 40 ? value.slice(0, 40) + "…" : value));
      }
    });
    return settings;
  }

  function describeFrames() {
    document.querySelectorAll(".widget-subarea img").forEach(function (img) {
      if (img.hasAttribute("alt") && !img.hasAttribute("data-alt-from-controls")) {
        return;  // alt text written with the frame (figure_frame)
      }
      var root = img.closest(".widget-subarea");
      var settings = controlsOf(root);
      img.setAttribute("data-alt-from-controls", "");
      img.setAttribute("alt", "Figure drawn by the interactive explorer" +
                       (settings.length ? " for " + settings.join(", ") : ""));
    });
  }

  new MutationObserver(describeFrames).observe(document.documentElement,
                                               {childList: true, subtree: true});

  addHub();
  // MathJax is loaded async or deferred, so it has run by the time "load" fires; this
  // listener is added before embed-amd.js adds the one that renders the widgets.
  document.addEventListener("DOMContentLoaded", addHub);
  window.addEventListener("load", addHub);
})();
