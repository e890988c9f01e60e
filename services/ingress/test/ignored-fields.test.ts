import t from 'tap';
import { ignoredFieldCounts, MAX_NAMES, OTHER, reportIgnored } from '../src/acceptance/ignored-fields.js';

t.test('the header lists valid names only; each is counted; distinct names are bounded', async (t) => {
  t.equal(reportIgnored(undefined), undefined);
  t.equal(reportIgnored([]), undefined);
  t.same(reportIgnored(['context_management', 'tools:web_search', 'bad name\r\nx: y']), { header: 'context_management, tools:web_search', labels: ['context_management', 'tools:web_search'] }, 'a name that is not an identifier is not echoed');
  t.equal(ignoredFieldCounts().get('context_management'), 1);
  reportIgnored(['context_management']);
  t.equal(ignoredFieldCounts().get('context_management'), 2);
  for (let i = 0; i < MAX_NAMES + 10; i++) reportIgnored([`field_${i}`]);
  t.same(reportIgnored(['field_never_seen'])?.labels, [OTHER], 'a new name past the bound is labelled other');
  t.ok(ignoredFieldCounts().size <= MAX_NAMES + 1, 'at most MAX_NAMES names plus other');
  t.ok((ignoredFieldCounts().get(OTHER) ?? 0) > 0, 'the rest counted as other');
});
