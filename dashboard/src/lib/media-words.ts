// What to do about each `media.*` field error the API sends (herald.media.limits, the media
// library and the publish routes), said after the API's own sentence, as plain.ts does for every
// other field code. Compose checks the same limits before sending (media.ts), so a person meets
// these mostly when a post is edited elsewhere or a file changed underneath.

export const MEDIA_CODE_WORDS: Record<string, string> = {
  'media.alt_text_too_long': 'shorten the description',
  'media.alt_text_unsupported': 'leave the description empty for this file',
  'media.dimensions': 'use a picture or video whose size and shape the platform takes',
  'media.duplicate': 'remove the second copy of the file',
  'media.mixed': 'post this file on its own, and the others in another post',
  'media.mixed_sources': 'use uploaded files only, or addresses only',
  'media.not_found': 'the file was deleted: add it again',
  'media.not_uploaded': 'wait for the upload to finish, or add the file again',
  'media.part_out_of_range': 'attach the file to a part the post has',
  'media.rejected': 'Herald cannot publish this kind of file: use an image, a video or a PDF',
  'media.source': 'reload the page and try again',
  'media.too_large': 'use a smaller file',
  'media.too_long': 'shorten the video',
  'media.too_many': 'remove some files, or spread them over a thread',
  'media.too_many_pages': 'use a document with fewer pages',
  'media.too_short': 'use a longer video',
  'media.too_small': 'use a larger file',
  'media.unreadable': 'add the file again',
  'media.unsupported_for_platform': 'remove the file, or leave that platform out',
  'media.unsupported_type': 'save the file in a format the platform takes',
}
