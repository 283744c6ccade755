import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { createTableInput, tableDesign } from '../../../lib/storage/table.ts';

export interface AppTableProps {
  /** Deletion protection and RETAIN (production) or a table that goes with the stack (dev). */
  retain: boolean;
}

const attributeType = (name: string): AttributeType => {
  const definition = createTableInput('x').AttributeDefinitions?.find((a) => a.AttributeName === name);
  if (definition?.AttributeType !== 'S') throw new Error(`table attribute ${name} must be a string key`);
  return AttributeType.STRING;
};

/**
 * The one DynamoDB table, built from the same definition as the local stack's (lib/storage/table.ts):
 * pk/sk, the `gsi1` list index and the `expires_at` TTL attribute.
 *
 * Encryption: the AWS managed key (`aws/dynamodb`). Tenant tokens and OpenAI keys are already
 * encrypted by the application under the tenant-secrets KMS key before they reach the table, so a
 * customer-managed table key would only add KMS grants to every function and a monthly key fee,
 * while crypto-shredding the whole table is not a per-tenant erasure tool. The AWS managed key still
 * shows every use in CloudTrail.
 */
export class AppTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: AppTableProps) {
    super(scope, id);
    const { partitionKey, sortKey, ttlAttribute } = tableDesign;
    this.table = new Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: attributeType(partitionKey) },
      sortKey: { name: sortKey, type: attributeType(sortKey) },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ttlAttribute,
      deletionProtection: props.retain,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    // Every index of the shared definition (today only the operator's list index, gsi1).
    for (const index of createTableInput('x').GlobalSecondaryIndexes ?? []) {
      const [hash, range] = index.KeySchema ?? [];
      const projection = index.Projection?.ProjectionType;
      if (!index.IndexName || !hash?.AttributeName || (projection !== 'ALL' && projection !== 'KEYS_ONLY')) {
        throw new Error(`index ${index.IndexName} in lib/storage/table.ts is not supported by the CDK table`);
      }
      this.table.addGlobalSecondaryIndex({
        indexName: index.IndexName,
        partitionKey: { name: hash.AttributeName, type: attributeType(hash.AttributeName) },
        ...(range?.AttributeName
          ? { sortKey: { name: range.AttributeName, type: attributeType(range.AttributeName) } }
          : {}),
        projectionType: projection === 'ALL' ? ProjectionType.ALL : ProjectionType.KEYS_ONLY,
      });
    }
  }
}
