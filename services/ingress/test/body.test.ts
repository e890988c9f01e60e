import t from 'tap';
import { TokiosError } from '@tokios/shared/errors';
import { routingFields, routingFieldsSchema } from '../src/body.js';

t.test('routing fields: the fast path agrees with the schema, and refusals keep the schema\'s message', async (t) => {
  const bodies: Record<string, unknown>[] = [
    { model: 'm' }, { model: 'm', stream: true }, { model: 'm', stream: false }, { model: 'x'.repeat(256) }, { model: 'x'.repeat(257) },
    { model: '' }, {}, { model: 3 }, { model: null }, { model: 'm', stream: 'yes' }, { model: 'm', stream: null }, { model: 'm', messages: [] },
  ];
  for (const body of bodies) {
    const slow = routingFieldsSchema.safeParse(body);
    if (slow.success) {
      t.same(routingFields(body), { model: slow.data.model, stream: slow.data.stream === true }, JSON.stringify(body).slice(0, 60));
    } else {
      const issue = slow.error.issues[0]!;
      const err = ((): unknown => {
        try {
          routingFields(body);
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      t.ok(err instanceof TokiosError && err.code === 'invalid_request' && err.message === issue.message, `refused: ${JSON.stringify(body).slice(0, 60)}`);
    }
  }
});
