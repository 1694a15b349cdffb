// The diagonal state-space layer against mathematics: the FFT convolution equals the unrolled
// recurrence (and fails to when padded to L instead of 2L), the conjugate-pair trick equals
// simulating all N states, ZOH and bilinear agree to O(dt^2), HiPPO-LegS's normal part has
// eigenvalues with real part -1/2, the S4D-Inv frequencies match the closed form, the
// eigenvectors of HiPPO-LegS itself are ill-conditioned, and the layer's recurrent mode gives the
// outputs of its convolution mode.
#include <cmath>
#include <limits>

#include <boost/test/unit_test.hpp>
#include <torch/torch.h>

#include "common/error.h"
#include "ops/models/model.h"
#include "ops/models/network.h"
#include "ops/ssm/backbone.h"
#include "ops/ssm/diagonal_ssm.h"
#include "ops/ssm/hippo.h"
#include "ops/ssm/ptd.h"
#include "ops/ssm/s4d_layer.h"
#include "ops/ssm/s5_layer.h"
#include "ops/ssm/transfer.h"

namespace {

namespace ssm = flowlab::ops::ssm;
const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

// Random stable diagonal SSM parameters for H channels and N/2 stored pairs (complex128).
struct System {
  at::Tensor a, b, c, dt;
};
System random_system(int64_t h, int64_t half, uint64_t seed) {
  torch::manual_seed(seed);
  System s;
  auto init = ssm::diagonal_init("lin", 2 * half);
  auto re = -torch::rand({h, half}, kF64) * 0.9 - 0.1;  // real parts in (-1, -0.1]
  s.a = torch::complex(re, torch::imag(init.a).unsqueeze(0).expand({h, half}));
  s.b = torch::complex(torch::randn({h, half}, kF64), torch::randn({h, half}, kF64));
  s.c = torch::complex(torch::randn({h, half}, kF64), torch::randn({h, half}, kF64));
  s.dt = torch::exp(torch::rand({h}, kF64) * (std::log(0.1) - std::log(0.001)) + std::log(0.001));
  return s;
}

double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(ops_ssm)

BOOST_AUTO_TEST_CASE(fft_convolution_equals_the_unrolled_recurrence_in_float64) {
  const int64_t h = 3, half = 8, length = 3000;
  for (auto method : {ssm::Discretization::kZoh, ssm::Discretization::kBilinear}) {
    System s = random_system(h, half, 1);
    auto d = ssm::discretize(s.a, s.b, s.dt, method);
    auto u = torch::randn({2, h, length}, kF64);
    auto by_fft = ssm::causal_fft_conv(u, ssm::ssm_kernel(d, s.c, length), 2 * length);
    auto by_steps = ssm::ssm_recurrence(d, s.c, u);
    BOOST_TEST(max_abs(by_fft - by_steps) < 1e-10);
    // Sanity: the outputs are not trivially small.
    BOOST_TEST(max_abs(by_steps) > 0.1);
  }
}

BOOST_AUTO_TEST_CASE(fft_convolution_equals_the_recurrence_in_float32) {
  const int64_t h = 4, half = 16, length = 2048;
  System s = random_system(h, half, 2);
  auto d64 = ssm::discretize(s.a, s.b, s.dt, ssm::Discretization::kZoh);
  ssm::Discrete d{d64.a_bar.to(torch::kComplexFloat), d64.b_bar.to(torch::kComplexFloat)};
  auto c = s.c.to(torch::kComplexFloat);
  auto u = torch::randn({2, h, length});
  auto by_fft = ssm::causal_fft_conv(u, ssm::ssm_kernel(d, c, length), 2 * length);
  auto by_steps = ssm::ssm_recurrence(d, c, u);
  BOOST_TEST(max_abs(by_fft - by_steps) < 1e-4);
}

BOOST_AUTO_TEST_CASE(fft_convolution_equals_the_direct_causal_sum_and_needs_padding_to_2l) {
  const int64_t h = 2, length = 200;
  torch::manual_seed(3);
  auto k = torch::randn({h, length}, kF64), u = torch::randn({1, h, length}, kF64);
  // y_t = sum_{s <= t} k_{t-s} u_s, written out.
  auto direct = torch::zeros({1, h, length}, kF64);
  auto ka = k.accessor<double, 2>();
  auto ua = u.accessor<double, 3>();
  auto ya = direct.accessor<double, 3>();
  for (int64_t c = 0; c < h; ++c)
    for (int64_t t = 0; t < length; ++t)
      for (int64_t s = 0; s <= t; ++s) ya[0][c][t] += ka[c][t - s] * ua[0][c][s];
  BOOST_TEST(max_abs(ssm::causal_fft_conv(u, k, 2 * length) - direct) < 1e-10);
  // Padding to L only makes the convolution circular: the tail wraps onto the start.
  BOOST_TEST(max_abs(ssm::causal_fft_conv(u, k, length) - direct) > 1e-2);
  // Any length >= 2L - 1 is linear (the layer's 5-smooth length among them); 2L - 2 wraps the
  // last term k_{L-1} u_{L-1}... onto y_0.
  BOOST_TEST(max_abs(ssm::causal_fft_conv(u, k, ssm::fast_fft_length(2 * length)) - direct) <
             1e-10);
  BOOST_TEST(max_abs(ssm::causal_fft_conv(u, k, 2 * length - 1) - direct) < 1e-10);
  BOOST_TEST(max_abs(ssm::causal_fft_conv(u, k, 2 * length - 2) - direct) > 1e-6);
}

BOOST_AUTO_TEST_CASE(bidirectional_convolution_equals_the_direct_two_sided_sum) {
  const int64_t h = 2, length = 150;
  torch::manual_seed(31);
  auto kf = torch::randn({h, length}, kF64), kb = torch::randn({h, length}, kF64);
  auto u = torch::randn({2, h, length}, kF64);
  // y_t = sum_{s<=t} kf_{t-s} u_s + sum_{s>t} kb_{s-t-1} u_s, written out.
  auto direct = torch::zeros({2, h, length}, kF64);
  auto fa = kf.accessor<double, 2>(), ba = kb.accessor<double, 2>();
  auto ua = u.accessor<double, 3>();
  auto ya = direct.accessor<double, 3>();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t c = 0; c < h; ++c)
      for (int64_t t = 0; t < length; ++t)
        for (int64_t s = 0; s < length; ++s)
          ya[b][c][t] += s <= t ? fa[c][t - s] * ua[b][c][s] : ba[c][s - t - 1] * ua[b][c][s];
  for (int64_t n : {2 * length, ssm::fast_fft_length(2 * length) + 7})
    BOOST_TEST(max_abs(ssm::bidirectional_fft_conv(u, kf, kb, n) - direct) < 1e-10);
  // A zero backward kernel leaves the causal convolution.
  BOOST_TEST(max_abs(ssm::bidirectional_fft_conv(u, kf, torch::zeros_like(kb), 2 * length) -
                     ssm::causal_fft_conv(u, kf, 2 * length)) < 1e-10);
  BOOST_CHECK_THROW(ssm::bidirectional_fft_conv(u, kf, kb, 2 * length - 1), flowlab::RunError);
}

BOOST_AUTO_TEST_CASE(a_bidirectional_layer_with_a_zero_backward_c_is_the_causal_layer) {
  torch::manual_seed(32);
  ssm::S4dOptions o;
  o.channels = 4;
  o.state = 8;
  o.bidirectional = true;
  ssm::S4dLayer two_sided(o);
  o.bidirectional = false;
  ssm::S4dLayer causal(o);
  torch::NoGradGuard no_grad;
  auto source = two_sided->named_parameters();
  for (auto& item : causal->named_parameters()) item.value().copy_(source[item.key()]);
  two_sided->eval();
  causal->eval();
  auto u = torch::randn({2, 4, 100});
  BOOST_TEST(max_abs(two_sided->forward(u) - causal->forward(u)) > 1e-3);  // reads the future
  two_sided->c_backward_ri.zero_();
  BOOST_TEST(max_abs(two_sided->forward(u) - causal->forward(u)) < 1e-5);
  BOOST_CHECK_THROW(two_sided->forward_recurrent(u), flowlab::RunError);
}

BOOST_AUTO_TEST_CASE(the_fast_fft_length_is_the_smallest_5_smooth_number_at_least_n) {
  auto smooth = [](int64_t m) {
    for (int64_t p : {2, 3, 5})
      while (m % p == 0) m /= p;
    return m == 1;
  };
  for (int64_t n = 1; n <= 5000; ++n) {
    const int64_t m = ssm::fast_fft_length(n);
    BOOST_TEST_REQUIRE(m >= n);
    BOOST_TEST_REQUIRE(smooth(m));
    for (int64_t j = n; j < m; ++j) BOOST_TEST_REQUIRE(!smooth(j));
  }
  BOOST_TEST(ssm::fast_fft_length(1568) == 1600);  // sequential Fashion-MNIST's 2L
}

BOOST_AUTO_TEST_CASE(the_conjugate_pair_trick_equals_simulating_all_n_states) {
  const int64_t h = 2, half = 6, length = 300;
  System s = random_system(h, half, 4);
  auto d = ssm::discretize(s.a, s.b, s.dt, ssm::Discretization::kZoh);
  auto u = torch::randn({1, h, length}, kF64);
  auto y_half = ssm::ssm_recurrence(d, s.c, u);  // 2 Re over the N/2 stored states
  // All N states: each pair (lambda, conj(lambda)) with B, C conjugated; the output is the plain
  // sum, real because the pairs cancel each other's imaginary parts.
  ssm::Discrete full{torch::cat({d.a_bar, d.a_bar.conj()}, 1),
                     torch::cat({d.b_bar, d.b_bar.conj()}, 1)};
  auto c_full = torch::cat({s.c, s.c.conj()}, 1);
  auto state = torch::zeros({1, h, 2 * half}, full.a_bar.options());
  double worst = 0, worst_imag = 0;
  for (int64_t t = 0; t < length; ++t) {
    state = full.a_bar * state + full.b_bar * u.select(2, t).unsqueeze(-1);
    auto y = (c_full * state).sum(-1);
    worst = std::max(worst, max_abs(torch::real(y) - y_half.select(2, t)));
    worst_imag = std::max(worst_imag, max_abs(torch::imag(y)));
  }
  BOOST_TEST(worst < 1e-10);
  BOOST_TEST(worst_imag < 1e-10);
}

BOOST_AUTO_TEST_CASE(zoh_and_bilinear_agree_to_second_order_in_dt) {
  // Over a fixed time horizon, K / dt approximates the impulse response C e^{At} B; the two
  // discretizations differ by O(dt^2) there, so halving dt quarters their gap.
  const int64_t h = 1, half = 4;
  System s = random_system(h, half, 5);
  s.a = torch::complex(torch::real(s.a), torch::imag(s.a) * 0.1);  // slow modes: smooth response
  auto gap = [&](double dt) {
    auto dts = torch::full({h}, dt, kF64);
    const auto steps = static_cast<int64_t>(std::llround(4.0 / dt));  // horizon t = 4
    auto kz =
        ssm::ssm_kernel(ssm::discretize(s.a, s.b, dts, ssm::Discretization::kZoh), s.c, steps);
    auto kb =
        ssm::ssm_kernel(ssm::discretize(s.a, s.b, dts, ssm::Discretization::kBilinear), s.c, steps);
    return max_abs(kz - kb) / dt;
  };
  const double g1 = gap(0.02), g2 = gap(0.01), g3 = gap(0.005);
  BOOST_TEST_MESSAGE("gaps " << g1 << " " << g2 << " " << g3);
  BOOST_TEST(g1 / g2 > 3.6);
  BOOST_TEST(g1 / g2 < 4.4);
  BOOST_TEST(g2 / g3 > 3.6);
  BOOST_TEST(g2 / g3 < 4.4);
}

BOOST_AUTO_TEST_CASE(the_zoh_kernel_of_a_real_mode_is_the_exact_exponential_decay) {
  // S4D-Real's first mode A = -1 with B = C = 1: K[l] = 2 (1 - e^{-dt}) e^{-dt l}, for any dt.
  auto a = torch::complex(torch::full({1, 1}, -1.0, kF64), torch::zeros({1, 1}, kF64));
  auto one = torch::complex(torch::ones({1, 1}, kF64), torch::zeros({1, 1}, kF64));
  const double dt = 0.7;
  auto k = ssm::ssm_kernel(
      ssm::discretize(a, one, torch::full({1}, dt, kF64), ssm::Discretization::kZoh), one, 20);
  auto l = torch::arange(20, kF64);
  BOOST_TEST(max_abs(k[0] - 2 * (1 - std::exp(-dt)) * torch::exp(-dt * l)) < 1e-14);
}

BOOST_AUTO_TEST_CASE(hippo_legs_normal_part_has_eigenvalues_with_real_part_minus_one_half) {
  for (int64_t n : {8, 64}) {
    auto eig = torch::linalg::eigvals(ssm::hippo_legs_normal(n));
    BOOST_TEST(max_abs(torch::real(eig) + 0.5) < 1e-9);
    // Conjugate pairs: the imaginary parts sum to zero and come in +- pairs.
    auto im = std::get<0>(torch::sort(torch::imag(eig)));
    BOOST_TEST(max_abs(im + im.flip(0)) < 1e-9);
  }
  // And A = A_N - P P^T, with A the lower-triangular LegS matrix.
  auto p = ssm::hippo_legs_p(5);
  auto a = ssm::hippo_legs_a(5);
  BOOST_TEST(a[3][1].item<double>() == -std::sqrt(7.0) * std::sqrt(3.0));
  BOOST_TEST(a[2][2].item<double>() == -3.0);
  BOOST_TEST(a[1][3].item<double>() == 0.0);
  BOOST_TEST(max_abs(ssm::hippo_legs_normal(5) - torch::outer(p, p) - a) < 1e-15);
}

BOOST_AUTO_TEST_CASE(s4d_legs_keeps_one_of_each_conjugate_pair_of_the_normal_part) {
  const int64_t n = 16;
  auto init = ssm::diagonal_init("legs", n);
  BOOST_TEST(init.a.size(0) == n / 2);
  BOOST_TEST(max_abs(torch::real(init.a) + 0.5) < 1e-12);
  BOOST_TEST(torch::imag(init.a).max().item<double>() < 0);
  // The kept eigenvalues with their conjugates are the spectrum of A_N.
  auto eig = torch::linalg::eigvals(ssm::hippo_legs_normal(n));
  auto all = torch::cat({init.a, init.a.conj()});
  auto sorted_im = [](const at::Tensor& z) { return std::get<0>(torch::sort(torch::imag(z))); };
  BOOST_TEST(max_abs(sorted_im(all) - sorted_im(eig)) < 1e-9);
  BOOST_TEST(torch::imag(init.b).abs().max().item<double>() <= 2.0);  // clipped as the reference
}

BOOST_AUTO_TEST_CASE(s4d_inv_and_lin_frequencies_follow_their_closed_forms) {
  auto inv = ssm::diagonal_init("inv", 64);
  BOOST_TEST(torch::imag(inv.a)[0].item<double>() == 64.0 / M_PI * 63.0,
             boost::test_tools::tolerance(1e-12));  // about 1283
  BOOST_TEST(torch::imag(inv.a)[31].item<double>() == 64.0 / M_PI * (64.0 / 63.0 - 1.0),
             boost::test_tools::tolerance(1e-12));  // about 0.32
  auto lin = ssm::diagonal_init("lin", 64);
  BOOST_TEST(torch::imag(lin.a)[31].item<double>() == 31 * M_PI,
             boost::test_tools::tolerance(1e-12));
  auto real = ssm::diagonal_init("real", 8);
  BOOST_TEST(torch::real(real.a)[3].item<double>() == -4.0);
}

BOOST_AUTO_TEST_CASE(hippo_legs_eigenvectors_are_catastrophically_ill_conditioned) {
  // Why S4D drops the low-rank term and PTD perturbs: kappa(V) of A itself explodes with N.
  std::vector<double> kappa;
  for (int64_t n : {4, 8, 12, 16}) {
    auto [values, vectors] = torch::linalg::eig(ssm::hippo_legs_a(n));
    kappa.push_back(ssm::condition_number(vectors));
    BOOST_TEST_MESSAGE("N = " << n << ": kappa(V) = " << kappa.back());
  }
  for (size_t i = 1; i < kappa.size(); ++i) BOOST_TEST(kappa[i] > 30 * kappa[i - 1]);
  BOOST_TEST(kappa.back() > 1e8);
  // The normal part's eigenvectors are unitary: kappa = 1.
  auto [w, v] = torch::linalg::eig(ssm::hippo_legs_normal(16));
  BOOST_TEST(ssm::condition_number(v) == 1.0, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(the_layer_in_recurrent_mode_gives_the_outputs_of_its_convolution_mode) {
  torch::manual_seed(6);
  for (const char* init : {"lin", "legs"}) {
    ssm::S4dOptions o;
    o.channels = 8;
    o.state = 16;
    o.init = init;
    ssm::S4dLayer layer(o);
    layer->eval();
    torch::NoGradGuard no_grad;
    auto u = torch::randn({3, 8, 500});
    BOOST_TEST(max_abs(layer->forward(u) - layer->forward_recurrent(u)) < 1e-4);
  }
}

BOOST_AUTO_TEST_CASE(the_ssm_parameters_are_the_layers_dt_a_and_b) {
  ssm::S4dOptions o;
  o.channels = 4;
  o.state = 8;
  ssm::S4dLayer layer(o);
  auto ssm_params = layer->ssm_parameters();
  BOOST_TEST(ssm_params.size() == 4u);
  BOOST_TEST(ssm_params[0].sizes() == torch::IntArrayRef({4}));  // log dt per channel
  BOOST_TEST(torch::exp(ssm_params[0]).min().item<double>() >= 0.001 - 1e-9);
  BOOST_TEST(torch::exp(ssm_params[0]).max().item<double>() <= 0.1 + 1e-9);
  // A's real part is negative by construction, whatever the parameter becomes.
  BOOST_TEST(torch::real(layer->a()).max().item<double>() < 0);
}

// --- perturb-then-diagonalize ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(ptd_makes_hippo_legs_diagonalizable_with_a_small_backward_error) {
  ssm::PtdOptions o;
  o.size = 16;
  o.iterations = 300;
  auto p = ssm::perturb_then_diagonalize(o);
  BOOST_TEST_MESSAGE("N/2 = 16: kappa(V) = " << p.kappa << ", ||E||/||A|| = " << p.relative_norm
                                             << ", backward error " << p.backward_error);
  BOOST_TEST(p.backward_error <= 1e-8);
  // Unperturbed, kappa(V) is about 1e11 at this size (see the test above); perturbed it is small.
  BOOST_TEST(p.kappa < 100);
  BOOST_TEST(p.relative_norm > 0);
  BOOST_TEST(p.relative_norm < 1);
  // The reported quantities are those of the returned E.
  auto again = ssm::diagonalize_perturbed(p.e);
  BOOST_TEST(again.kappa == p.kappa, boost::test_tools::tolerance(1e-9));
  // The initialization keeps every eigenvalue in the left half-plane, and V^-1 B reproduces B.
  auto init = ssm::ptd_init(p);
  BOOST_TEST(torch::real(init.a).max().item<double>() < 0);
  auto b = torch::matmul(p.eigenvectors, init.b);
  BOOST_TEST(max_abs(b - ssm::hippo_legs_b(16).to(torch::kComplexDouble)) < 1e-9);
}

BOOST_AUTO_TEST_CASE(kappa_of_the_eigenvectors_falls_as_the_perturbation_grows) {
  // Along one fixed random (Ginibre) direction G, kappa(V(A - eps G)) falls as eps grows: the
  // trade-off PTD's objective balances (kappa ~ 1/eps, the paper's Theorems 4 and 5).
  const int64_t n = 12;
  torch::manual_seed(7);
  auto g = torch::complex(torch::randn({n, n}, kF64), torch::randn({n, n}, kF64));
  g = g / torch::view_as_real(g).pow(2).sum().sqrt();
  auto a_norm = torch::view_as_real(ssm::hippo_legs_a(n).to(torch::kComplexDouble))
                    .pow(2)
                    .sum()
                    .sqrt()
                    .item<double>();
  double previous = std::numeric_limits<double>::infinity();
  for (double eps : {1e-6, 1e-4, 1e-2, 1.0}) {
    auto p = ssm::diagonalize_perturbed(g * (eps * a_norm));
    BOOST_TEST_MESSAGE("eps = " << eps << ": kappa(V) = " << p.kappa);
    BOOST_TEST(p.kappa < previous);
    BOOST_TEST(p.relative_norm == eps, boost::test_tools::tolerance(1e-9));
    BOOST_TEST(p.backward_error <= 1e-8);
    previous = p.kappa;
  }
}

// --- S5 -----------------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(the_parallel_scan_equals_the_sequential_recurrence) {
  torch::manual_seed(10);
  const int64_t p = 6;
  for (int64_t length : {1, 2, 7, 64, 1000}) {
    auto log_a = torch::complex(-torch::rand({p}, kF64) * 0.05, torch::randn({p}, kF64));
    auto v = torch::complex(torch::randn({2, p, length}, kF64), torch::randn({2, p, length}, kF64));
    auto a = torch::exp(log_a);
    auto x = torch::zeros({2, p}, v.options());
    std::vector<at::Tensor> steps;
    for (int64_t t = 0; t < length; ++t) steps.push_back(x = a * x + v.select(2, t));
    BOOST_TEST(max_abs(ssm::diagonal_scan(log_a, v) - torch::stack(steps, 2)) < 1e-10,
               "L = " << length);
  }
}

BOOST_AUTO_TEST_CASE(the_s5_layer_in_recurrent_mode_gives_the_outputs_of_its_scan) {
  torch::manual_seed(11);
  ssm::S5Options o;
  o.channels = 6;
  o.state = 8;
  o.ptd.iterations = 50;
  ssm::S5Layer layer(o);
  layer->eval();
  torch::NoGradGuard no_grad;
  auto u = torch::randn({3, 6, 300});
  BOOST_TEST(max_abs(layer->forward(u) - layer->forward_recurrent(u)) < 1e-4);
  BOOST_TEST(torch::real(layer->lambda()).max().item<double>() < 0);
  BOOST_TEST(layer->dt().sizes() == torch::IntArrayRef({8}));  // a step per state
}

// --- the Fourier-mode robustness hooks ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(layer_noise_reaches_every_ssm_layer_and_zero_noise_changes_nothing) {
  flowlab::Registry registry;
  flowlab::ops::register_models(registry);
  flowlab::ops::ModelRecord record;
  record.family = "classifier";
  record.arch = "s4d";
  record.params = flowlab::Params({{"d_model", int64_t{8}},
                                   {"state", int64_t{8}},
                                   {"layers", int64_t{3}},
                                   {"init", std::string("lin")},
                                   {"discretization", std::string("zoh")},
                                   {"bidirectional", false},
                                   {"dt_min", 0.001},
                                   {"dt_max", 0.1},
                                   {"dropout", 0.0},
                                   {"prenorm", false},
                                   {"ssm_lr", 0.001}});
  record.input.shape = {50, 1};
  record.input.outputs = 10;
  torch::manual_seed(9);
  auto net = record.build(registry);
  net->eval();
  auto* backbone = dynamic_cast<ssm::SsmBackbone*>(net.get());
  BOOST_REQUIRE(backbone);
  torch::NoGradGuard no_grad;
  auto x = torch::randn({4, 50, 1});
  std::vector<size_t> seen;
  auto logits = backbone->forward_with_layer_noise(
      x, [&](size_t layer, const torch::Tensor& u, const torch::Tensor& dt) {
        seen.push_back(layer);
        BOOST_TEST(u.sizes() == torch::IntArrayRef({4, 8, 50}));
        BOOST_TEST(dt.sizes() == torch::IntArrayRef({8}));
        return torch::zeros_like(u);
      });
  BOOST_TEST((seen == std::vector<size_t>{0, 1, 2}));
  BOOST_TEST(max_abs(logits - net->forward(x)) == 0.0);
  auto noisy = backbone->forward_with_layer_noise(
      x, [](size_t, const torch::Tensor& u, const torch::Tensor&) { return torch::ones_like(u); });
  BOOST_TEST(max_abs(noisy - logits) > 1e-3);
}

BOOST_AUTO_TEST_CASE(a_layers_mean_transfer_magnitude_is_that_of_its_real_systems) {
  ssm::S4dOptions o;
  o.channels = 1;
  o.state = 8;
  o.init = "legs";
  ssm::S4dLayer layer(o);
  torch::NoGradGuard no_grad;
  auto omegas = torch::logspace(-1, 3, 64, 10.0, kF64);
  auto a = layer->a().to(torch::kComplexDouble)[0], b = layer->b().to(torch::kComplexDouble)[0],
       c = layer->c().to(torch::kComplexDouble)[0];
  // The same system as a dense (block) matrix over all N states.
  auto dense = torch::diag(torch::cat({a, a.conj()}));
  auto g = ssm::transfer_dense(dense, torch::cat({b, b.conj()}), torch::cat({c, c.conj()}), omegas);
  BOOST_TEST(max_abs(layer->mean_transfer_magnitude(omegas) - g.abs()) < 1e-9);
}

// --- transfer functions --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(transfer_functions_match_closed_forms_and_each_other) {
  auto omegas = torch::logspace(-2, 3, 50, 10.0, kF64);
  // One real mode: G(i w) = c b / (i w + a).
  auto a = torch::full({1, 1}, -2.0, kF64);
  auto g = ssm::transfer_dense(a, torch::full({1}, 3.0, kF64), torch::full({1}, 0.5, kF64), omegas);
  auto expected = 1.5 / (torch::complex(torch::full_like(omegas, 2.0), omegas));
  BOOST_TEST(max_abs(g - expected) < 1e-14);
  // A normal matrix diagonalizes exactly: the partial-fraction sum equals the dense solve.
  const int64_t n = 16;
  auto an = ssm::hippo_legs_normal(n);
  auto b = ssm::hippo_legs_b(n), c = torch::randn({n}, kF64);
  auto [w, v] = torch::linalg::eig(an);
  auto diag = ssm::transfer_diagonal(w, at::linalg_solve(v, b.to(torch::kComplexDouble)),
                                     torch::matmul(c.to(torch::kComplexDouble), v), omegas);
  BOOST_TEST(max_abs(diag - ssm::transfer_dense(an, b, c, omegas)) < 1e-9);
}

BOOST_AUTO_TEST_CASE(ptd_follows_the_full_transfer_function_far_closer_than_s4d_legs) {
  // S4D-LegS drops HiPPO-LegS's low-rank term: an O(1) gap. PTD's gap is O(||E||) (Theorem 3).
  const int64_t n = 32;
  auto omegas = torch::logspace(-2, 4, 400, 10.0, kF64);
  auto b = ssm::hippo_legs_b(n);
  b = b / b.norm();
  torch::manual_seed(8);
  auto c = torch::randn({n}, kF64);
  c = c / c.norm();
  auto full = ssm::transfer_dense(ssm::hippo_legs_a(n), b, c, omegas);
  auto legs = ssm::transfer_dense(ssm::hippo_legs_normal(n), b, c, omegas);
  ssm::PtdOptions o;
  o.size = n;
  o.iterations = 300;
  auto e = ssm::perturb_then_diagonalize(o);
  auto init = ssm::ptd_init(e);
  // B in PTD's eigenbasis: V^-1 b for the same (normalized) b as the other two.
  auto ptd =
      ssm::transfer_diagonal(init.a, at::linalg_solve(e.eigenvectors, b.to(torch::kComplexDouble)),
                             torch::matmul(c.to(torch::kComplexDouble), e.eigenvectors), omegas);
  const double gap_legs = max_abs(legs - full), gap_ptd = max_abs(ptd - full);
  BOOST_TEST_MESSAGE("sup gaps: S4D-LegS " << gap_legs << ", PTD " << gap_ptd << " (||E||/||A|| "
                                           << e.relative_norm << ")");
  BOOST_TEST(gap_ptd < gap_legs / 3);
}

BOOST_AUTO_TEST_SUITE_END()
