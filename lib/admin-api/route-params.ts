import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { contactKeys, messageKeys } from '../conversation/keys.ts';
import { clipped, NotFoundError, ValidationError } from '../errors.ts';
import { isStorableKey } from '../storage/table.ts';

/** A path parameter, URL-decoded; a missing one is 404, bad encoding 400. */
export function pathParam(event: APIGatewayProxyEventV2, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new NotFoundError();
  try {
    return decodeURIComponent(value);
  } catch {
    throw new ValidationError(`path parameter ${name} is not valid URL encoding`);
  }
}

/**
 * A contact whose keys DynamoDB could not hold has no conversation (its reads would be refused with
 * a 500): answer 404 before asking.
 */
export function requireStorableContact(clientId: string, contact: string): void {
  const storable =
    isStorableKey(contactKeys.contact(clientId, contact)) &&
    isStorableKey({ pk: messageKeys.partition(clientId, contact) });
  if (!storable) throw new NotFoundError(`no conversation with ${clipped(contact)}`);
}
