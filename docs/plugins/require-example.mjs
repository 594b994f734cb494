// A TypeDoc plugin: every export of an entry point needs a summary and an `@example`, or TypeDoc
// warns (and with treatWarningsAsErrors, `npm run docs` fails). Exports listed in the option
// `requireExampleExcept` ("module.name") are let off: those whose source this project's docs
// cannot edit yet (TypeDoc's own `notDocumented` validation still checks their summary).
import { Converter, ParameterType, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.options.addDeclaration({
    name: 'requireExampleExcept',
    help: 'Exports ("module.name") that need neither a summary nor an @example here.',
    type: ParameterType.Array,
    defaultValue: [],
  });
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const except = new Set(app.options.getValue('requireExampleExcept'));
    for (const module of context.project.children ?? []) {
      for (const exported of module.children ?? []) {
        const name = `${module.name}.${exported.name}`;
        // Exported by both entry points: documented where it is declared.
        if (except.has(name) || exported.kindOf(ReflectionKind.Reference)) continue;
        const comments = [exported.comment, ...(exported.signatures ?? []).map((s) => s.comment)].filter(
          Boolean,
        );
        if (!comments.some((c) => c.summary.some((part) => part.text.trim() !== ''))) {
          app.logger.warn(`${name} has no summary`);
        }
        if (!comments.some((c) => c.blockTags.some((tag) => tag.tag === '@example'))) {
          app.logger.warn(`${name} has no @example`);
        }
      }
    }
  });
}
