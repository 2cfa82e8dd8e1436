using System.Runtime.CompilerServices;

// The consistency checker drives two sample instances and injects backplane faults through internal hooks.
[assembly: InternalsVisibleTo("CacheGen.Consistency.Tests")]
