using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using RecApp.Data.Experiments;

namespace RecApp.Api.Experiments;

/// <summary>
/// The architecture's <c>hash(user_id) % 100</c>, salted per experiment: a user's bucket depends only on the salt and the
/// id, so every replica and every restart puts them in the same variant, and two experiments split users
/// independently. XxHash64 is stable across processes and platforms (unlike <c>string.GetHashCode</c>).
/// </summary>
public static class ExperimentAssignment
{
    /// <summary>The user's bucket, 0–99.</summary>
    public static int Bucket(string salt, long userId)
    {
        Span<byte> input = stackalloc byte[Encoding.UTF8.GetMaxByteCount(salt.Length) + sizeof(long)];
        var length = Encoding.UTF8.GetBytes(salt, input);
        BinaryPrimitives.WriteInt64LittleEndian(input[length..], userId);
        return (int)(XxHash64.HashToUInt64(input[..(length + sizeof(long))]) % 100);
    }

    /// <summary>The variant whose cumulative share covers the user's bucket.</summary>
    public static ExperimentVariant Assign(ExperimentDefinition experiment, long userId)
    {
        var bucket = Bucket(experiment.Salt, userId);
        var upTo = 0;
        foreach (var variant in experiment.Variants)
        {
            upTo += variant.SharePercent;
            if (bucket < upTo)
            {
                return variant;
            }
        }
        return experiment.Control; // shares are validated to sum to 100; this is only a guard
    }
}
