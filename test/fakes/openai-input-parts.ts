/**
 * The fake OpenAI server's check of the content parts of a Responses `input` message, refusing
 * what the real API refuses (a 400 with the param's path), so a test cannot pass with parts OpenAI
 * would not take: `input_text` needs its text; `input_image` an `https:` or base64 `data:image/...`
 * URL (or a file id) and a known `detail`; `input_file` a file id, a URL, or base64 `file_data`
 * with its `filename`.
 */

export interface InputPartProblem {
  message: string;
  param: string;
}

const IMAGE_DETAILS = ['low', 'high', 'auto', 'original'];
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'];
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The first problem of the input's message parts, or undefined when OpenAI would take them. */
export function inputPartProblem(input: unknown): InputPartProblem | undefined {
  if (!Array.isArray(input)) return undefined;
  for (const [itemIndex, item] of input.entries()) {
    const content = (item as { content?: unknown } | null)?.content;
    if (!Array.isArray(content)) continue;
    for (const [partIndex, part] of content.entries()) {
      const problem = partProblem((part ?? {}) as Record<string, unknown>);
      if (problem) {
        const param = `input[${itemIndex}].content[${partIndex}]${problem.field ? `.${problem.field}` : ''}`;
        return { message: problem.message, param };
      }
    }
  }
  return undefined;
}

function partProblem(part: Record<string, unknown>): { message: string; field?: string } | undefined {
  switch (part.type) {
    case 'input_text':
    case 'output_text':
      return typeof part.text === 'string'
        ? undefined
        : { message: "Missing required parameter: 'text'.", field: 'text' };
    case 'input_image': {
      if (part.detail !== undefined && !IMAGE_DETAILS.includes(String(part.detail))) {
        return { message: `Invalid value: '${String(part.detail)}'.`, field: 'detail' };
      }
      if (typeof part.file_id === 'string') return undefined;
      if (typeof part.image_url !== 'string') {
        return { message: "Missing required parameter: 'image_url' or 'file_id'.", field: 'image_url' };
      }
      if (part.image_url.startsWith('https://')) return undefined;
      const data = dataUrl(part.image_url);
      if (!data || !IMAGE_TYPES.includes(data.mimeType)) {
        return {
          message:
            "Invalid 'image_url'. Expected a valid URL or a base64 data URL of a PNG, JPEG, WEBP or GIF image.",
          field: 'image_url',
        };
      }
      return undefined;
    }
    case 'input_file': {
      if (typeof part.file_id === 'string' || typeof part.file_url === 'string') return undefined;
      if (typeof part.file_data !== 'string') {
        return {
          message: "Missing required parameter: 'file_data', 'file_id' or 'file_url'.",
          field: 'file_data',
        };
      }
      if (!dataUrl(part.file_data)) {
        return { message: "Invalid 'file_data': expected a base64 data URL.", field: 'file_data' };
      }
      if (typeof part.filename !== 'string' || !part.filename) {
        return { message: "Missing required parameter: 'filename'.", field: 'filename' };
      }
      return undefined;
    }
    default:
      return { message: `Invalid value: '${String(part.type)}'.`, field: 'type' };
  }
}

function dataUrl(url: string): { mimeType: string; base64: string } | undefined {
  const match = /^data:([a-z]+\/[a-z0-9.+-]+);base64,(.+)$/i.exec(url);
  if (!match?.[1] || !match[2] || !BASE64.test(match[2])) return undefined;
  return { mimeType: match[1].toLowerCase(), base64: match[2] };
}
