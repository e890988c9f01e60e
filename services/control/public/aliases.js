// Tokios dashboard, aliases section: a name for an ordered list (or weighted set) of deployments. Uses app.js's
// helpers (api, h, action, when, refreshers); every API value goes through textContent.
'use strict';

/** Targets and weights as typed: names separated by spaces (deployment names hold none), weights likewise. */
function aliasBody(targetsText, weightsText) {
  const targets = targetsText.trim().split(/\s+/).filter(Boolean);
  const weights = weightsText.trim().split(/[\s,]+/).filter(Boolean);
  if (!weights.length) return { mode: 'ordered', targets };
  if (weights.length !== targets.length) throw new Error(`Give one weight per target (${targets.length}), or none for an ordered list.`);
  return { mode: 'weighted', targets: targets.map((deployment, i) => ({ deployment, weight: Number(weights[i]) })) };
}

function targetChips(a) {
  return a.targets.map((t, i) => h('span', { class: 'chip', 'data-target': t.name || t.deploymentId },
    a.mode === 'ordered' && i > 0 ? h('span', { class: 'muted' }, '→ ') : null,
    t.name || `${t.deploymentId} (deleted)`,
    a.mode === 'weighted' ? h('span', { class: 'muted' }, ` ×${t.weight}`) : null,
    t.shared ? h('span', { class: 'muted' }, ' (shared)') : null,
    ' ',
    h('span', { class: `pill ${t.online ? 'online' : ''}` }, t.online ? 'online' : 'offline'),
  ));
}

const editing = new Set(); // alias ids whose edit form is open (a poll must not wipe what is being typed)

async function refreshAliases() {
  const { data } = await api('GET', '/aliases');
  if (editing.size) return;
  const rows = data.map((a) => {
    const targets = h('input', { class: 'wide', value: a.targets.map((t) => t.name || '').filter(Boolean).join(' '), 'aria-label': 'targets' });
    const weights = h('input', { class: 'small', value: a.mode === 'weighted' ? a.targets.map((t) => t.weight).join(' ') : '', placeholder: 'weights', 'aria-label': 'weights' });
    const edit = h('form', { class: 'inline', hidden: true, onsubmit: action(async () => {
      await api('PUT', `/aliases/${a.id}`, aliasBody(targets.value, weights.value));
      editing.delete(a.id);
      await refreshAliases();
    }) }, targets, weights, h('button', { type: 'submit' }, 'Save'));
    return h('tr', { 'data-alias': a.name, 'data-id': a.id },
      h('td', {}, a.name),
      h('td', {}, a.mode),
      h('td', { class: 'targets' }, targetChips(a), edit),
      h('td', {}, when(a.updatedAt)),
      h('td', {},
        h('button', { class: 'link', 'data-action': 'edit-alias', onclick: () => {
          edit.hidden = !edit.hidden;
          if (edit.hidden) editing.delete(a.id); else editing.add(a.id);
        } }, 'Edit'),
        h('button', { class: 'danger', 'data-action': 'delete-alias', onclick: action(async () => {
          if (!confirm(`Delete alias "${a.name}"? Calls naming it fail; its deployments stay.`)) return;
          await api('DELETE', `/aliases/${a.id}`);
          editing.delete(a.id);
          await refreshAliases();
        }) }, 'Delete')),
    );
  });
  $('aliases').replaceChildren(...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No aliases. An alias is a model name for several deployments, tried in order.'))]));
}

$('alias-form').addEventListener('submit', action(async () => {
  await api('POST', '/aliases', { name: $('alias-name').value.trim(), ...aliasBody($('alias-targets').value, $('alias-weights').value) });
  $('alias-name').value = '';
  $('alias-targets').value = '';
  $('alias-weights').value = '';
  await refreshAliases();
}));

refreshers.push(refreshAliases);
