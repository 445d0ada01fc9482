// Plain words for every code the API sends: what happened and what to do. The codes come from
// api-codes.json, which `python dashboard/scripts/api_codes.py` writes from Herald's source; a
// unit test (words.test.ts) wants words here for each of them, so a new code cannot reach a
// person as a raw identifier.

export interface Words {
  title: string
  detail: string
}

const CONNECT_AGAIN = 'Connect the account again from the Accounts page.'
const RETRY_SOON = 'Try again in a few minutes.'

/** A problem's code (the last segment of its `type`, with `-` read as `_`). */
export const PROBLEM_WORDS: Record<string, Words> = {
  access_denied: { title: 'The account was not connected', detail: 'Permission was not given on the platform: connect it again and allow what Herald asks for.' },
  ambiguous: { title: 'The platform did not confirm', detail: 'It may have done what was asked: look on the platform before you try again.' },
  auth_revoked: { title: "The platform refused Herald's access", detail: 'Reconnect the account on the Accounts page, then try again.' },
  conflict: { title: 'This cannot change now', detail: 'Reload to see where it stands.' },
  content_too_large: { title: 'The post is too large to send', detail: 'Shorten the text and try again.' },
  credits_exhausted: { title: "The platform refused: the app's paid credits are used up", detail: 'Whoever runs Herald must buy more, then try again.' },
  dependency_unavailable: { title: 'Herald is briefly unavailable', detail: 'A service it depends on did not answer: try again in a few seconds.' },
  duplicate: { title: 'The platform refused the same content twice', detail: 'Change the text and try again.' },
  error: { title: 'Herald refused the request', detail: 'Reload the page and try again.' },
  herald_error: { title: 'Herald could not do that', detail: 'Reload the page and try again.' },
  idempotency_conflict: { title: 'This was already sent', detail: 'Reload to see what happened to it.' },
  image_unavailable: { title: 'The image could not be downloaded', detail: 'Check that its address opens in a browser, then try again.' },
  internal_error: { title: "Something went wrong on Herald's side", detail: 'It has been logged: try again, and if it keeps happening tell whoever runs Herald.' },
  invalid_confirmation: {
    title: 'The account was not connected',
    detail: 'This connection link was already used, has expired, or was started by another business: connect the account again from the Accounts page.',
  },
  invalid_content: { title: 'The platform refused the content', detail: 'Edit it and try again.' },
  invalid_input: { title: 'Some details need changing', detail: 'Correct what is marked and try again.' },
  invalid_oauth_state: { title: 'The connection expired', detail: CONNECT_AGAIN },
  media_read_error: { title: 'An attached file could not be read', detail: 'It may have been deleted from the media library: upload it again, then retry.' },
  malformed_json: { title: 'Herald could not read the request', detail: 'Reload the page and try again.' },
  method_not_allowed: { title: 'Herald does not do that here', detail: 'Reload the page and try again.' },
  no_pages: { title: 'No Facebook Page was shared with Herald', detail: 'Connect again and pick at least one Page (and its Instagram account).' },
  not_found: { title: 'Not found', detail: 'It may have been deleted: reload the page to see what is there now.' },
  platform_contract: { title: 'The platform changed how it must be spoken to', detail: 'Whoever runs Herald must update it (they have been told); try again once they have.' },
  platform_error: { title: 'The platform refused', detail: 'Check the post and the account, then try again.' },
  platform_unavailable: { title: 'The platform did not answer', detail: RETRY_SOON },
  policy_blocked: { title: 'The platform is blocking this account for a while', detail: 'Try again later, and contact the platform if it lasts.' },
  rate_limited: { title: 'Too many requests for now', detail: 'Herald limits how often a business can publish and connect accounts: try again in a little while.' },
  reply_forbidden: { title: 'The platform refused a reply', detail: 'Post the rest as a new post.' },
  spam_suspected: { title: 'The platform held this as suspected spam', detail: 'If it is not, tell the platform through its app, and change the post before trying again.' },
  token_exchange_failed: { title: 'The account was not connected', detail: 'The platform refused to finish the connection: connect it again from the Accounts page.' },
  token_undecryptable: { title: "Herald can no longer read this account's access", detail: 'Reconnect the account on the Accounts page.' },
  transient: { title: 'The platform did not answer', detail: RETRY_SOON },
  unauthorized: {
    title: 'Your API key was not accepted',
    detail: 'Check that you pasted the whole key (it starts with hrld_), or ask whoever runs Herald for a new one.',
  },
  validation_error: { title: 'Some details need changing', detail: 'Correct what is marked and try again.' },
}

/** What to do about one field's error, by its `code` (after the API's own sentence). */
export const FIELD_CODE_WORDS: Record<string, string> = {
  ambiguous_timezone: 'pick the time zone by its place name, such as America/New_York',
  aspect_ratio: 'crop the image to between 4:5 and 1.91:1',
  bool_parsing: 'choose yes or no',
  control_character: 'remove the invisible character',
  dict_type: 'reload the page and try again',
  empty: 'write something',
  enum: 'pick one of the choices offered',
  extra_forbidden: 'reload the page and try again',
  greater_than_equal: 'use a larger number',
  in_past: 'pick a time in the future',
  int_parsing: 'use a whole number',
  int_type: 'use a whole number',
  invalid: 'check it and try again',
  invalid_character: 'remove the character the platform refuses',
  invalid_datetime: 'pick a date and a time',
  invalid_unicode: 'retype it (a character was damaged when pasted)',
  invalid_url: 'use a web address starting with https://',
  less_than_equal: 'use a smaller number',
  link_with_media: 'remove the link or the images',
  list_type: 'reload the page and try again',
  literal_error: 'pick one of the choices offered',
  'media.alt_text_too_long': 'shorten the alt text',
  'media.alt_text_unsupported': 'remove the alt text: this network does not show it here',
  'media.dimensions': 'use a file with the size in pixels this network takes',
  'media.duplicate': 'attach each file once',
  'media.mixed': 'attach only one kind of file here (images, or one video)',
  'media.mixed_sources': 'use uploaded files or an image address, not both',
  'media.not_found': 'upload the file again: it is not in the media library',
  'media.not_uploaded': 'wait for the upload to finish, then try again',
  'media.part_out_of_range': 'attach the file to a part the thread has',
  'media.rejected': 'upload another file: this one could not be read',
  'media.source': 'upload the file to the media library first',
  'media.too_large': 'use a smaller file',
  'media.too_long': 'use a shorter video',
  'media.too_many': 'remove some files',
  'media.too_many_pages': 'use a document with fewer pages',
  'media.too_short': 'use a longer video',
  'media.too_small': 'use a larger file',
  'media.unreadable': 'upload another file: this one could not be read',
  'media.unsupported_for_platform': 'remove the file for this network, or pick another kind',
  'media.unsupported_type': 'use a file type this network takes',
  missing: 'fill it in',
  missing_offset: 'pick a time zone',
  missing_time: 'add a time of day',
  model_attributes_type: 'reload the page and try again',
  needs_reauth: 'reconnect the account on the Accounts page',
  no_facebook_target: 'add a Facebook Page, or remove the link',
  nonexistent_local_time: 'pick a time the clocks do not skip',
  not_jpeg: 'use a JPEG image',
  offset_mismatch: 'pick the time again in that time zone',
  out_of_range: 'pick a date between the years 1 and 9999',
  private_host: 'use an address on the public web',
  required: 'add one',
  story_needs_media: 'attach one uploaded image or video for the Story',
  string_pattern_mismatch: 'check its format',
  string_too_long: 'shorten it',
  string_too_short: 'make it longer',
  string_type: 'write it as text',
  text_unused: 'put the text in the thread, or add a target that takes text',
  thread_needs_x: 'add an X or Threads account, or write one text instead',
  too_far_ahead: 'pick a time within the next year',
  too_large: 'use a smaller file',
  too_long: 'shorten it',
  too_many_hashtags: 'remove some hashtags',
  too_many_links: 'remove some links',
  too_many_media: 'remove some images or videos',
  too_many_mentions: 'remove some mentions',
  too_short: 'add more',
  unknown_account: 'pick another account, or connect this one again',
  unknown_target: "remove this version, or add an account it is for",
  unknown_timezone: 'pick a time zone from the list',
  unreachable: 'check that the address opens in a browser',
  unsupported: 'remove it: this platform does not take it',
  value_error: 'check it and try again',
  wrong_platform: 'pick an account of the platform this takes',
}

/** Why a target was not published (its `error_kind`), for the platform `p`; `words` are the
 *  platform's own, already in plain words, or null. */
export const ERROR_KIND_WORDS: Record<string, (p: string, words: string | null) => string> = {
  ambiguous: (p) =>
    `${p} may have published this post but did not confirm it: look at the account on ${p} before you retry, so it is not posted twice.`,
  auth_revoked: (p) =>
    `${p} refused the post because the account was disconnected or its access expired: reconnect it on the Accounts page, then retry.`,
  rate_limited: (p) => `${p} refused the post because the account is posting too often: wait a few minutes, then retry.`,
  duplicate: (p) => `${p} refused the post because the same text was posted recently: change the text and publish again.`,
  invalid_content: (p, words) => `${p} refused the content${words ? ` (“${words}”)` : ''}: edit the post and publish again.`,
  transient: (p) => `${p} did not answer, even after several tries: retry in a few minutes.`,
  platform_contract: (p) =>
    `${p} no longer accepts the way this Herald talks to it (the platform changed its API): whoever runs Herald must update it (they have been told); retry once they have.`,
  credits_exhausted: (p) =>
    `${p} refused the post because the app's paid credits are used up: whoever runs Herald must buy more in the X developer console (they have been told), then retry.`,
  reply_forbidden: (p) =>
    `${p} refused a reply of the thread (it only lets apps reply where they were mentioned): the tweets already out stay out; post the rest as a new post.`,
  spam_suspected: (p) =>
    `${p} held the post as suspected spam: if it is not, tell ${p} through its app, and change the post before publishing it again.`,
  policy_blocked: (p) => `${p} is blocking this account for a while over its policies: retry later, and contact ${p} if it lasts.`,
  image_unavailable: (_p, words) =>
    `The image could not be downloaded${words ? ` (“${words}”)` : ''}, so nothing was posted: check that its address opens in a browser, then retry.`,
  platform_error: (p, words) => `${p} did not publish the post${words ? ` (“${words}”)` : ''}: check the post and the account, then retry.`,
}

/** What each event on Herald's topic tells a person. */
export const EVENT_WORDS: Record<string, string> = {
  'account.expiring': "An account's access ends soon: reconnect it before then.",
  'account.needs_reauth': 'An account must be reconnected before it can publish again.',
  'platform.action_required': 'A platform changed how it must be spoken to: whoever runs Herald must act.',
  'post.failed': 'A post was not published: each account says why.',
  'post.missed': 'A post was found too late to send: schedule it again if it still matters.',
  'post.partially_published': 'A post was published to some accounts and not others.',
  'post.published': 'A post was published.',
  'post.target_unconfirmed': 'A platform may have published a post without confirming it: look before retrying.',
  'post.comment_failed': 'A first comment was not posted under its published post: retry the post to try it again.',
  'post.comment_unconfirmed': 'A platform may have posted a first comment without confirming it: look under the post before retrying.',
}
