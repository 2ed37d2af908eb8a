"""The index page's script (kept apart from html.py so each module stays small).

The page holds only the gallery's header data; items arrive in parts, each a small script
(``index/part-00000.js``) that calls ``artflowPart(n, items)``. Script tags load from
``file://`` where fetch() may not, so the page works opened straight from the folder. The part
holding the current page loads first; the rest follow one after another, and searches and
filters widen as they arrive. The state (search, filters, page, open item) lives in the URL's
hash, so a link or a reload shows the same view.

Card markup, for whoever extends it: ``figure.card > a.full > div.thumb > img`` then a
``figcaption``. ``thumbMarkup()`` builds the ``div.thumb`` content: an image entry with an
``anim`` file (an animated WebP/GIF, or an MP4/WebM) shows its poster thumbnail and plays on
hover.
"""

JS = r"""
(function(){
  var meta = JSON.parse(document.getElementById('gallery-data').textContent);
  var axes = meta.axes, per = meta.per_page, total = meta.total, size = meta.part_size;
  var parts = new Array(meta.parts), loaded = 0, requested = {};
  var grid = document.getElementById('grid'), count = document.getElementById('count');
  var pager = document.querySelectorAll('.pager'), search = document.getElementById('search');
  var state = {q: '', page: 1, item: null, f: {}};
  var matches = [], scanned = 0, painted = false, lastIds = null;

  function esc(s){ return String(s).replace(/[&<>"']/g, function(c){
    return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]; }); }
  function url(p){ return encodeURI(p).replace(/#/g, '%23').replace(/\?/g, '%3F'); }
  function files(img){
    if (typeof img[0] !== 'string') return img[0];
    return ['images/' + img[0] + '.png', 'thumbs/' + img[0] + meta.thumb_ext];
  }

  window.artflowPart = function(n, items){
    if (parts[n]) return;
    parts[n] = items; loaded++;
    update();
    loadNext();
  };
  function load(n){
    if (n < 0 || n >= parts.length || parts[n] || requested[n]) return;
    requested[n] = true;
    var s = document.createElement('script');
    s.src = 'index/part-' + ('0000' + n).slice(-5) + '.js';
    document.body.appendChild(s);
  }
  function loadNext(){
    for (var i = 0; i < parts.length; i++) if (!parts[i] && !requested[i]) { load(i); return; }
  }

  // --- state <-> hash ---------------------------------------------------------------------
  function readHash(){
    var q = new URLSearchParams(location.hash.replace(/^#/, ''));
    state = {q: q.get('q') || '', page: Math.max(1, parseInt(q.get('page') || '1', 10) || 1),
             item: q.has('item') ? q.get('item') : null, f: {}};
    axes.forEach(function(a){ if (q.has(a.key)) state.f[a.key] = q.get(a.key); });
  }
  function writeHash(){
    var q = new URLSearchParams();
    if (state.q) q.set('q', state.q);
    axes.forEach(function(a){ if (state.f[a.key]) q.set(a.key, state.f[a.key]); });
    if (state.page > 1) q.set('page', state.page);
    if (state.item !== null) q.set('item', state.item);
    var h = q.toString();
    history.replaceState(null, '', h ? '#' + h : location.pathname + location.search);
  }

  // --- filters ----------------------------------------------------------------------------
  function test(a, i, want){
    var v = a.values[i];
    if (a.control === 'range') {
      var m = /^(-?[\d.e+-]*)\.\.(-?[\d.e+-]*)$/.exec(want), x = parseFloat(v);
      if (!m) return v === want;
      return (m[1] === '' || x >= parseFloat(m[1])) && (m[2] === '' || x <= parseFloat(m[2]));
    }
    if (a.control === 'text') return v.toLowerCase().indexOf(want.toLowerCase()) >= 0;
    return v === want;
  }
  function matchesItem(it){
    for (var k = 0; k < axes.length; k++) {
      var want = state.f[axes[k].key];
      if (want && !test(axes[k], it[4][k], want)) return false;
    }
    if (state.q) {
      var words = state.q.toLowerCase().split(/\s+/), text = (it[0] + ' ' + it[1]).toLowerCase();
      for (var w = 0; w < words.length; w++) if (words[w] && text.indexOf(words[w]) < 0) return false;
    }
    return true;
  }
  function filtering(){ return !!state.q || axes.some(function(a){ return !!state.f[a.key]; }); }
  function restart(){ matches = []; scanned = 0; }
  function scan(){
    while (scanned < parts.length && parts[scanned]) {
      var items = parts[scanned];
      for (var i = 0; i < items.length; i++) if (matchesItem(items[i])) matches.push(scanned * size + i);
      scanned++;
    }
  }
  function item(i){ var p = parts[Math.floor(i / size)]; return p ? p[i % size] : null; }

  // --- drawing ----------------------------------------------------------------------------
  function thumbMarkup(img, it){
    var f = files(img), alt = esc(it[1] || it[0]);
    var poster = '<img src="' + url(f[1]) + '" alt="' + alt + '" loading="lazy" width="' + img[1] +
      '" height="' + img[2] + '">';
    if (!img[5]) return poster;
    if (/\.(mp4|webm)$/i.test(img[5]))
      return '<video muted loop playsinline preload="none" poster="' + url(f[1]) + '" data-anim="' +
        url(img[5]) + '"></video>';
    return poster.replace('<img ', '<img data-anim="' + url(img[5]) + '" ');
  }
  function card(i, it){
    var chips = axes.map(function(a, k){
      if (a.values.length < 2) return '';
      return '<li>' + esc(a.short) + ' <b>' + esc(a.values[it[4][k]]) + '</b></li>';
    }).join('');
    var head = it[1] ? '<div class="caption">' + esc(it[1]) + '</div>' : '';
    if (it[2] !== 'ok')
      return '<figure class="card failed" data-item="' + i + '"><div class="error">' + esc(it[2]) + ': ' +
        esc(it[3] || 'not rendered yet') + '</div><figcaption><div class="name">' + esc(it[0]) +
        '</div>' + head + '<ul class="params">' + chips + '</ul></figcaption></figure>';
    return it[5].map(function(img){
      var f = files(img), extra = '';
      if (img[3]) extra += '<p class="labels">' + esc(img[3]) + '</p>';
      if (img[4]) extra += '<p class="boxes">' + esc(img[4]) + '</p>';
      return '<figure class="card" data-item="' + i + '"><a class="full" href="' + url(f[0]) +
        '" title="full size"><div class="thumb">' + thumbMarkup(img, it) + '</div></a><figcaption>' +
        '<div class="name">' + esc(f[0].split('/').pop()) + '</div>' + head + '<ul class="params">' +
        chips + '</ul>' + extra + '</figcaption></figure>';
    }).join('');
  }
  function draw(){
    var filtered = filtering(), n = filtered ? matches.length : total;
    var pages = Math.max(1, Math.ceil(n / per)), done = !filtered || scanned >= parts.length;
    var first = (state.page - 1) * per, ids = [], ready = true;
    for (var j = first; j < Math.min(n, first + per); j++) {
      var i = filtered ? matches[j] : j;
      if (!item(i)) { ready = false; load(Math.floor(i / size)); break; }
      ids.push(i);
    }
    var shown = ids.join(',');
    if (shown !== lastIds) {
      grid.innerHTML = ids.map(function(i){ return card(i, item(i)); }).join('');
      lastIds = shown;
    }
    var more = done ? '' : ' (searching: ' + loaded + ' of ' + parts.length + ' parts read)';
    var noun = total === 1 ? ' item' : ' items';
    count.textContent = (filtered ? n + ' of ' + total : total) + noun + ', page ' +
      Math.min(state.page, pages) + ' of ' + pages + more;
    pager.forEach(function(p){
      p.hidden = done && pages <= 1;
      p.querySelector('.pageno').value = state.page;
      p.querySelector('.pages').textContent = pages + (done ? '' : '+');
      p.querySelector('.prev').disabled = state.page <= 1;
      p.querySelector('.next').disabled = done && state.page >= pages;
    });
    if (ready && !painted && ids.length + (n === 0 && done ? 1 : 0) > 0) {
      painted = true;
      document.body.setAttribute('data-first-paint-ms', Math.round(performance.now()));
    }
    if (loaded === parts.length && done) document.body.setAttribute('data-ready', '1');
    openItem();
  }
  var pendingDraw = false;
  function update(){
    if (filtering()) scan();
    if (pendingDraw) return;
    pendingDraw = true;
    setTimeout(function(){ pendingDraw = false; draw(); }, 0);
  }
  function changed(){ document.body.removeAttribute('data-ready'); restart(); writeHash(); update(); }

  // --- controls ---------------------------------------------------------------------------
  search.value = state.q;
  search.addEventListener('input', function(){ state.q = search.value.trim(); state.page = 1; changed(); });
  document.querySelectorAll('[data-axis]').forEach(function(el){
    var key = el.getAttribute('data-axis'), a = axes.filter(function(x){ return x.key === key; })[0];
    el.addEventListener(el.tagName === 'SELECT' ? 'change' : 'input', function(){
      if (a.control === 'range') {
        var lo = el.parentNode.querySelector('.lo').value, hi = el.parentNode.querySelector('.hi').value;
        state.f[key] = lo || hi ? lo + '..' + hi : '';
      } else state.f[key] = el.value;
      state.page = 1; changed();
    });
  });
  function setControls(){
    search.value = state.q;
    document.querySelectorAll('[data-axis]').forEach(function(el){
      var v = state.f[el.getAttribute('data-axis')] || '';
      if (el.classList.contains('lo')) el.value = v.split('..')[0] || '';
      else if (el.classList.contains('hi')) el.value = v.split('..')[1] || '';
      else el.value = v;
    });
  }
  pager.forEach(function(p){
    p.querySelector('.prev').addEventListener('click', function(){ state.page--; writeHash(); update(); });
    p.querySelector('.next').addEventListener('click', function(){ state.page++; writeHash(); update(); });
    p.querySelector('.pageno').addEventListener('change', function(ev){
      state.page = Math.max(1, parseInt(ev.target.value, 10) || 1); writeHash(); update(); });
  });

  // --- full-size view -----------------------------------------------------------------------
  var box = document.getElementById('lightbox');
  var big = box.querySelector('img'), text = box.querySelector('p');
  grid.addEventListener('click', function(ev){
    var a = ev.target.closest('a.full');
    if (!a) return;
    ev.preventDefault();
    state.item = a.parentNode.getAttribute('data-item'); writeHash(); openItem();
  });
  function openItem(){
    if (state.item === null) { box.classList.remove('open'); big.removeAttribute('src'); return; }
    var it = item(+state.item);
    if (!it || it[2] !== 'ok') return;
    big.src = url(files(it[5][0])[0]);
    text.textContent = it[0] + (it[1] ? ' · ' + it[1] : '');
    box.classList.add('open');
  }
  box.addEventListener('click', function(){ state.item = null; writeHash(); openItem(); });
  document.addEventListener('keydown', function(ev){
    if (ev.key === 'Escape') { state.item = null; writeHash(); openItem(); }
  });
  grid.addEventListener('mouseover', function(ev){
    var el = ev.target.closest('[data-anim]');
    if (!el) return;
    if (el.tagName === 'VIDEO') { if (!el.src) el.src = el.getAttribute('data-anim'); el.play(); }
    else if (!el.getAttribute('data-still')) {
      el.setAttribute('data-still', el.src); el.src = el.getAttribute('data-anim');
    }
  });
  grid.addEventListener('mouseout', function(ev){
    var el = ev.target.closest('[data-anim]');
    if (el && el.tagName === 'VIDEO') el.pause();
    else if (el && el.getAttribute('data-still')) {
      el.src = el.getAttribute('data-still'); el.removeAttribute('data-still');
    }
  });
  window.addEventListener('hashchange', function(){ readHash(); setControls(); changed(); });

  readHash(); setControls();
  if (filtering()) load(0); else load(Math.floor((state.page - 1) * per / size));
  if (!parts.length) draw();
})();
"""
