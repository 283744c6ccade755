import { Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { FunctionSpec } from '../../lib/topology.ts';

/**
 * Grant helpers for what the CDK's own helpers grant too broadly. Each grants the DynamoDB / S3 calls
 * the code makes (lib/), on named resources only; test/infra pins the resulting action lists.
 */

const TABLE_ACTIONS: Record<FunctionSpec['table'], string[]> = {
  // Exactly what lib/ calls: Get and Query; writers also Put/Update/Delete, and ConditionCheck for
  // the conditions inside TransactWriteItems (clients and their phone routes). Batch reads only
  // where the topology says so (tableBatchGet); no batch writes.
  read: ['dynamodb:GetItem', 'dynamodb:Query'],
  'read-write': [
    'dynamodb:GetItem',
    'dynamodb:Query',
    'dynamodb:ConditionCheckItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
};

/**
 * Items of the table, and Query on its named indexes. Unlike `grantReadData` /
 * `grantReadWriteData`, no `index/*` wildcard, no stream actions (the table has no stream), no Scan
 * (entities are read by key, the tenant first) and no DescribeTable.
 */
export function grantTableAccess(
  role: IRole,
  table: ITable,
  spec: Pick<FunctionSpec, 'table' | 'tableBatchGet' | 'tableLeadingKeys'>,
  indexNames: string[],
): void {
  if (spec.tableLeadingKeys) {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem'],
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': spec.tableLeadingKeys } },
      }),
    );
    return;
  }
  const actions = [...TABLE_ACTIONS[spec.table], ...(spec.tableBatchGet ? ['dynamodb:BatchGetItem'] : [])];
  role.addToPrincipalPolicy(new PolicyStatement({ actions, resources: [table.tableArn] }));
  if (indexNames.length > 0) {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: indexNames.map((name) => `${table.tableArn}/index/${name}`),
      }),
    );
  }
}

const MEDIA_OBJECT_ACTIONS: Record<NonNullable<FunctionSpec['media']>, string[]> = {
  read: ['s3:GetObject'],
  'read-add': ['s3:GetObject', 's3:PutObject'],
  'read-write': ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
};

/**
 * Objects of the media bucket (`<arn>/*`: object keys are per tenant and message) and listing it.
 * Returns the ARN of the objects, for the cdk-nag acknowledgment of that one wildcard.
 */
export function grantMediaAccess(
  role: IRole,
  bucketName: string,
  access: NonNullable<FunctionSpec['media']>,
): string {
  const stack = Stack.of(role);
  const bucketArn = stack.formatArn({ service: 's3', region: '', account: '', resource: bucketName });
  const objectsArn = `${bucketArn}/*`;
  role.addToPrincipalPolicy(
    new PolicyStatement({ actions: MEDIA_OBJECT_ACTIONS[access], resources: [objectsArn] }),
  );
  // Listing also makes a missing object a 404 (NoSuchKey) instead of a 403: "not there yet" is an answer.
  role.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [bucketArn] }));
  return objectsArn;
}

/**
 * How cdk-nag names a resource in an IAM5 finding: the resolved value with `Fn::Join` flattened and
 * `Ref`s written `<Name>` (cdk-nag's flattenCfnReference, for the intrinsics used here).
 */
export function nagResourceName(stack: Stack, value: string): string {
  const visit = (node: unknown): string => {
    if (typeof node === 'string') return node;
    if (node && typeof node === 'object') {
      const join = (node as Record<string, unknown>)['Fn::Join'];
      if (Array.isArray(join)) return (join[1] as unknown[]).map(visit).join(join[0] as string);
      const ref = (node as Record<string, unknown>).Ref;
      if (typeof ref === 'string') return `<${ref}>`;
    }
    return JSON.stringify(node);
  };
  return visit(stack.resolve(value));
}
