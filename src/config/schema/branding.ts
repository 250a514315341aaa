import { Type, type Static } from '@sinclair/typebox';

const url = (description: string) => Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', description }));

/**
 * How every page looks: the organisation's name, logo, colour and help. All optional: without them the
 * pages are neutral (no logo, Gatehouse's blue). Texts set here are shown as written in every language;
 * the override file (`languages.overridesFile`) changes the texts of the pages themselves.
 */
export const BrandingSchema = Type.Object(
  {
    organisationName: Type.Optional(
      Type.String({ minLength: 1, maxLength: 100, description: 'Shown at the top of every page and in its title, e.g. Contoso. Also the logo\'s text alternative.' }),
    ),
    logoFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Logo shown at the top of every page: a PNG, JPEG, GIF, WebP or SVG file of at most 1 MB, read at start and served by Gatehouse (no external address).',
      }),
    ),
    illustrationFile: Type.Optional(
      Type.String({ minLength: 1, description: 'Background picture behind the sign-in box (as ADFS\'s illustration); same formats and size as logoFile. Decorative only.' }),
    ),
    accentColor: Type.String({
      pattern: '^#[0-9a-fA-F]{6}$',
      default: '#0b5cad',
      description: 'Colour of buttons and links, #rrggbb. The button text is white or black, whichever reads better; links keep the default colour when this one is too light to read on white.',
    }),
    helpDesk: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'A line at the foot of every page, e.g. "IT help desk: +41 44 000 00 00, room 3.12".' }),
    ),
    helpUrl: url('"Help" link at the foot of every page.'),
    privacyUrl: url('"Privacy" link at the foot of every page.'),
    forgotPasswordUrl: url('"Forgot your password?" link under the sign-in form (a self-service reset portal).'),
  },
  { additionalProperties: false, default: {} },
);

export const LanguagesSchema = Type.Object(
  {
    default: Type.String({
      pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
      default: 'en',
      description: 'Language of the pages when neither the request\'s hints (ui_locales, mkt, lc or lcid) nor the browser\'s Accept-Language name an offered one. One of the shipped languages (en, de, fr, es, nl, pt, ar).',
    }),
    offered: Type.Array(Type.String({ pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$' }), {
      default: [],
      description: 'Languages the pages may speak, from the shipped ones. Empty: all of them.',
    }),
    overridesFile: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'YAML or JSON file with the organisation\'s own texts: per language, any key of the shipped catalogues (see docs/branding.md), e.g. de: { login.heading: Bei Contoso anmelden }. Checked at start.',
      }),
    ),
  },
  { additionalProperties: false, default: {} },
);

export type BrandingConfig = Static<typeof BrandingSchema>;
export type LanguagesConfig = Static<typeof LanguagesSchema>;
