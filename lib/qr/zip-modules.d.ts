// The little of archiver 7 and unzipper 0.12 (whatsapp-web.js's own zip dependencies) that the
// session snapshots use; neither ships types.

declare module 'archiver' {
  import type { Readable } from 'node:stream';

  interface Archiver extends Readable {
    directory(source: string, destination: string | false): this;
    finalize(): Promise<void>;
  }

  function archiver(format: 'zip', options?: { zlib?: { level?: number } }): Archiver;
  export = archiver;
}

declare module 'unzipper' {
  interface Entry {
    path: string;
    type: 'File' | 'Directory';
    buffer(): Promise<Buffer>;
  }

  interface CentralDirectory {
    files: Entry[];
  }

  const unzipper: {
    Open: { buffer(data: Buffer): Promise<CentralDirectory> };
  };
  export = unzipper;
}
