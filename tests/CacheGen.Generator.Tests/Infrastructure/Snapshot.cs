using System.Runtime.CompilerServices;

namespace CacheGen.Generator.Tests.Infrastructure;

/// <summary>
/// Compares generated code with committed <c>Snapshots/{Class}.{Method}#{HintName}.verified.cs</c> files, the
/// Verify naming convention. On a mismatch it writes the new text beside it as <c>.received.cs</c> and fails; with
/// <c>VERIFY_AUTOVERIFY=1</c> in the environment it rewrites the verified file instead.
/// </summary>
public static class Snapshot
{
    public static void Verify(GeneratorRun run, [CallerFilePath] string testFile = "", [CallerMemberName] string testMethod = "")
    {
        Assert.NotEmpty(run.Sources);
        string directory = Path.Combine(Path.GetDirectoryName(testFile)!, "Snapshots");
        string testClass = Path.GetFileNameWithoutExtension(testFile);
        var expectedFiles = new HashSet<string>(StringComparer.Ordinal);
        var mismatches = new List<string>();
        bool accept = Environment.GetEnvironmentVariable("VERIFY_AUTOVERIFY") is "1" or "true";

        foreach (var source in run.Sources.OrderBy(s => s.HintName, StringComparer.Ordinal))
        {
            string hint = source.HintName.EndsWith(".g.cs", StringComparison.Ordinal) ? source.HintName[..^".g.cs".Length] : source.HintName;
            string verified = Path.Combine(directory, $"{testClass}.{testMethod}#{hint}.verified.cs");
            string received = Path.ChangeExtension(verified, null)[..^".verified".Length] + ".received.cs";
            expectedFiles.Add(Path.GetFileName(verified));
            string actual = Normalize(source.SourceText.ToString());
            string? expected = File.Exists(verified) ? Normalize(File.ReadAllText(verified)) : null;
            if (expected == actual)
            {
                File.Delete(received);
                continue;
            }
            if (accept)
            {
                Directory.CreateDirectory(directory);
                File.WriteAllText(verified, actual);
                continue;
            }
            File.WriteAllText(received, actual);
            mismatches.Add(expected is null ? $"new file {Path.GetFileName(verified)}" : $"changed {Path.GetFileName(verified)}");
        }

        // A verified file for an output the generator no longer writes is a stale snapshot.
        string[] existing = Directory.Exists(directory) ? Directory.GetFiles(directory, $"{testClass}.{testMethod}#*.verified.cs") : [];
        foreach (string stale in existing.Select(f => Path.GetFileName(f)).Where(f => !expectedFiles.Contains(f)))
        {
            if (accept)
                File.Delete(Path.Combine(directory, stale));
            else
                mismatches.Add($"stale {stale}");
        }

        Assert.True(mismatches.Count == 0,
            "Generated code differs from the snapshots (see the .received.cs files; set VERIFY_AUTOVERIFY=1 to accept):\n" + string.Join("\n", mismatches));
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").TrimStart('\uFEFF');
}
