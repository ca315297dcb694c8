// pnpm's install hook: one manifest correction, applied to every install (dev, CI, the images).
//
// valibot (@framecast/config's schema library) declares TypeScript an *optional* peer, for its
// type declarations only. pnpm links an optional peer whenever the workspace has the package (the
// root's typescript, a dev tool), and a production install then carries the compiler into every
// service's image (deploy/test/image-start.test.ts refuses it). The services never load TypeScript:
// Node strips the types itself.
module.exports = {
  hooks: {
    readPackage(pkg) {
      if (pkg.name === 'valibot' && pkg.peerDependencies) {
        delete pkg.peerDependencies.typescript;
        if (pkg.peerDependenciesMeta) delete pkg.peerDependenciesMeta.typescript;
      }
      return pkg;
    },
  },
};
