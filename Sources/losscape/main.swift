import CBLAS
import Foundation
import Lang

// The executable stays thin: the command, the REPL logic and every builtin live in Lang; here
// are only the libedit line editor and the BLAS thread count.
let status = Driver.main(CommandLine.arguments, editor: EditLineEditor()) { n in
    openblas_set_num_threads(Int32(n))
}
exit(status)
